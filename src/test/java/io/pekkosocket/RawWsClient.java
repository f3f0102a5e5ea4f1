package io.pekkosocket;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A bare-socket WebSocket client for what java.net.http cannot do: never answer pings, stop reading (a slow
 * consumer), or send frames of any size and opcode. It reads frames only when asked.
 */
public final class RawWsClient implements AutoCloseable {
  public record Frame(int opcode, byte[] payload) {
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    public int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private String clientId;

  public RawWsClient(int port, String pathAndQuery, int receiveBuffer) throws IOException {
    socket = new Socket();
    if (receiveBuffer > 0) socket.setReceiveBufferSize(receiveBuffer);
    socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 10_000);
    socket.setSoTimeout(15_000);
    out = socket.getOutputStream();
    in = new DataInputStream(socket.getInputStream());
    byte[] key = new byte[16];
    ThreadLocalRandom.current().nextBytes(key);
    String req = "GET " + pathAndQuery + " HTTP/1.1\r\n"
        + "Host: 127.0.0.1:" + port + "\r\n"
        + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n"
        + "Sec-WebSocket-Version: 13\r\n\r\n";
    out.write(req.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    String status = readLine(in);
    if (!status.contains(" 101 ")) throw new IOException("handshake refused: " + status);
    while (!readLine(in).isEmpty()) { /* headers */ }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') break;
      if (c != '\r') sb.append((char) c);
    }
    if (c == -1 && sb.length() == 0) throw new IOException("connection closed during handshake");
    return sb.toString();
  }

  /** Sends raw bytes of an HTTP request and returns everything the server answers until it closes. */
  public static String rawExchange(int port, String request) throws IOException {
    return rawExchange(port, request, 15_000);
  }

  /**
   * As {@link #rawExchange(int, String)}, but a connection the server keeps open (an accepted upgrade) ends the
   * read after {@code readMillis} of silence; what arrived until then is returned.
   */
  public static String rawExchange(int port, String request, int readMillis) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(readMillis);
      s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = s.getInputStream().read(buf)) != -1; ) out.write(buf, 0, n);
      } catch (java.net.SocketTimeoutException openConnection) {
        // the server kept the connection: what arrived is the answer
      }
      return out.toString(StandardCharsets.UTF_8);
    }
  }

  /** Reads the welcome frame and returns the clientId it carries. */
  public String welcomeClientId() throws IOException {
    clientId = Api.JSON.readTree(read().text()).get("data").get("clientId").asText();
    return clientId;
  }

  /** The clientId of the welcome frame, once {@link #welcomeClientId()} has read it. */
  public String clientId() {
    return clientId;
  }

  public Frame read() throws IOException {
    int b0 = in.readUnsignedByte();
    int b1 = in.readUnsignedByte();
    long len = b1 & 0x7F;
    if (len == 126) len = in.readUnsignedShort();
    else if (len == 127) len = in.readLong();
    byte[] payload = new byte[(int) len];
    in.readFully(payload);
    return new Frame(b0 & 0x0F, payload);
  }

  /** Reads frames until a close frame (returned) or the end of the stream (null); skips everything else. */
  public Frame readUntilClose() throws IOException {
    while (true) {
      Frame f;
      try {
        f = read();
      } catch (java.io.EOFException e) {
        return null;
      }
      if (f.opcode() == 8) return f;
    }
  }

  public void send(int opcode, boolean fin, byte[] payload) throws IOException {
    int len = payload.length;
    byte[] header;
    if (len < 126) header = new byte[] {(byte) ((fin ? 0x80 : 0) | opcode), (byte) (0x80 | len)};
    else if (len < 65536) {
      header = new byte[] {(byte) ((fin ? 0x80 : 0) | opcode), (byte) (0x80 | 126), (byte) (len >> 8), (byte) len};
    } else {
      header = new byte[10];
      header[0] = (byte) ((fin ? 0x80 : 0) | opcode);
      header[1] = (byte) (0x80 | 127);
      for (int i = 0; i < 8; i++) header[9 - i] = (byte) ((long) len >> (8 * i));
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    byte[] masked = new byte[len];
    for (int i = 0; i < len; i++) masked[i] = (byte) (payload[i] ^ mask[i & 3]);
    out.write(header);
    out.write(mask);
    out.write(masked);
    out.flush();
  }

  /**
   * Sends one frame exactly as given: any first byte (FIN, RSV bits, opcode), any declared payload length whatever
   * the payload really is, masked or not. For abuse tests: the header may promise bytes that never come.
   */
  public void sendFrame(int firstByte, long declaredLength, boolean masked, byte[] payload) throws IOException {
    java.io.ByteArrayOutputStream frame = new java.io.ByteArrayOutputStream();
    frame.write(firstByte);
    int maskBit = masked ? 0x80 : 0;
    if (declaredLength < 126) {
      frame.write(maskBit | (int) declaredLength);
    } else if (declaredLength < 65536) {
      frame.write(maskBit | 126);
      frame.write((int) (declaredLength >> 8));
      frame.write((int) declaredLength);
    } else {
      frame.write(maskBit | 127);
      for (int i = 7; i >= 0; i--) frame.write((int) (declaredLength >> (8 * i)));
    }
    byte[] body = payload.clone();
    if (masked) {
      byte[] mask = new byte[4];
      ThreadLocalRandom.current().nextBytes(mask);
      frame.write(mask);
      for (int i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
    }
    frame.write(body);
    out.write(frame.toByteArray());
    out.flush();
  }

  /** Writes bytes as they are (no framing). */
  public void sendRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** This client's local TCP port (to find the connection in the kernel's tables). */
  public int localPort() {
    return socket.getLocalPort();
  }

  public void setReadTimeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
  }

  /** Ends the connection the way a lost network looks to the server: no close frame, a TCP reset. */
  public void reset() throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  /** The next text frame, skipping pings and pongs. */
  public String readText() throws IOException {
    while (true) {
      Frame f = read();
      if (f.opcode() == 1) return f.text();
      if (f.opcode() == 8) throw new IOException("closed with " + f.closeCode());
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
