package io.pekkosocket.wire;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class FrameEncoderTest {
  final FrameEncoder go = new FrameEncoder(true, true);
  final FrameEncoder plain = new FrameEncoder(false, false);

  @Test
  void goCompatibleByDefault() {
    Push p = new Push("<u>", -7, "a&b", new Payload.Text("x<y>"));
    assertEquals("{\"messageId\":\"0123456789abcdef\",\"sendUserId\":\"\\u003cu\\u003e\",\"code\":-7,"
        + "\"msg\":\"a\\u0026b\",\"data\":\"x\\u003cy\\u003e\"}\n", go.push("0123456789abcdef", p));
  }

  @Test
  void oneSettingTurnsEscapingAndNewlineOff() {
    Push p = new Push("<u>", 1, "a&b", new Payload.Raw("{\"k\":\"<>\"}"));
    assertEquals("{\"messageId\":\"0123456789abcdef\",\"sendUserId\":\"<u>\",\"code\":1,\"msg\":\"a&b\","
        + "\"data\":{\"k\":\"<>\"}}", plain.push("0123456789abcdef", p));
    assertEquals("{\"code\":0,\"msg\":\"success\",\"data\":{\"clientId\":\"n1.x\"}}", plain.welcome("n1.x"));
  }

  @Test
  void lineSeparatorsControlsAndLoneSurrogates() {
    assertEquals("\"\\u2028\\u2029\\u001f\\b\\f\\ufffd\"".replace("\\ufffd", "\ufffd"),
        JsonText.quote("\u2028\u2029\u001f\b\f\ud800", false));
    assertEquals("\"😀\"", JsonText.quote("😀", true));
  }

  @Test
  void membershipNoticeDataIsASortedJsonString() {
    String f = go.membership("00000000000000ff", false, "c1", "u<1>", "e\"x");
    assertEquals("{\"messageId\":\"00000000000000ff\",\"sendUserId\":\"\",\"code\":1002,\"msg\":\"客户端下线\","
        + "\"data\":\"{\\\"clientId\\\":\\\"c1\\\",\\\"extend\\\":\\\"e\\\\\\\"x\\\",\\\"userId\\\":"
        + "\\\"u\\\\u003c1\\\\u003e\\\"}\"}\n", f);
  }

  @Test
  void refusalFrames() {
    assertEquals("{\"messageId\":\"\",\"sendUserId\":\"\",\"code\":-1002,\"msg\":\"unauthorized\",\"data\":[]}\n",
        go.refusal(-1002, "unauthorized"));
  }

  @Test
  void idsHaveTheDocumentedShape() {
    assertTrue(Ids.newMessageId().matches("[0-9a-f]{16}"));
    String c = Ids.newClientId("n7");
    assertTrue(c.matches("n7\\.[A-Za-z0-9_-]{22}"), c);
    assertEquals("n7", Ids.nodeOf(c));
    assertNotEquals(c, Ids.newClientId("n7"));
  }
}
