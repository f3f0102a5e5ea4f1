package io.pekkosocket.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pekkosocket.WsClient;
import java.util.Map;

/** The connect-token refusal on {@code /ws}, as PROTOCOL.md writes it: the -1002 frame, then close 1008. */
final class Refusals {
  static final String UNAUTHORIZED =
      "{\"messageId\":\"\",\"sendUserId\":\"\",\"code\":-1002,\"msg\":\"unauthorized\",\"data\":[]}\n";

  private Refusals() {}

  /** Opens {@code url} and asserts the server refused the connect token with exactly that frame and close. */
  static void assertUnauthorizedOnWs(String url) {
    WsClient c = WsClient.open(url, Map.of());
    assertEquals(UNAUTHORIZED, c.next());
    assertEquals(1008, c.awaitClose().code());
  }
}
