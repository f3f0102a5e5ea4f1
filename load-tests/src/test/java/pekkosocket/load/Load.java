package pekkosocket.load;

import static io.gatling.javaapi.http.HttpDsl.http;

import io.gatling.http.action.ws.WsInboundMessage;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Parameters and helpers shared by the simulations. Every parameter is a system property:
 * {@code -Durl=http://127.0.0.1:7800 -Dtoken=<admin JWT> -Dsystem=load -Dclients=... -Drate=... -Dduration=...}.
 * Traffic goes to the loopback URL given (127.0.0.0/8 only) and every scenario ends by itself.
 */
final class Load {
  private Load() {}

  /**
   * The servers: {@code -Durls=http://127.0.0.1:7801,http://127.0.0.1:7802,…} (the nodes of a cluster), else
   * {@code -Durl} (one server). Loopback only.
   */
  static List<String> urls() {
    String list = System.getProperty("urls", System.getProperty("url", "http://127.0.0.1:7800"));
    List<String> out = new ArrayList<>();
    for (String url : list.split(",")) {
      url = url.strip();
      if (url.isEmpty()) continue;
      String host = URI.create(url).getHost();
      if (host == null || !(host.startsWith("127.") || host.equals("localhost"))) {
        throw new IllegalArgumentException("load tests only target loopback (127.0.0.0/8), not " + host);
      }
      out.add(url);
    }
    if (out.isEmpty()) throw new IllegalArgumentException("no server URL");
    return List.copyOf(out);
  }

  static String url() {
    return urls().get(0);
  }

  /** The server of the {@code i}-th API call: calls rotate over the nodes (a load balancer inside the generator). */
  static String apiUrl(long i) {
    List<String> urls = urls();
    return urls.get((int) (i % urls.size()));
  }

  static String wsUrl() {
    return url().replaceFirst("^http", "ws");
  }

  static String token() {
    String t = System.getProperty("token", System.getenv().getOrDefault("SOCKET_ADMIN_TOKEN", ""));
    if (t.isEmpty()) throw new IllegalArgumentException("pass an admin token: -Dtoken=... (pekko-socket.jar token --role admin)");
    return t;
  }

  static String bearer() {
    return "Bearer " + token();
  }

  static String system() {
    return System.getProperty("system", "load");
  }

  static int intProp(String name, int def) {
    return Integer.getInteger(name, def);
  }

  /**
   * {@code -Dbrowser=true}: WebSocket handshakes look like Chrome's (see {@link #handshakeHeaders()}). Pekko HTTP
   * keeps a copy of its header-parser trie per connection once it meets a header name it does not know, so a
   * browser's upgrade may cost the server more heap per connection than a bare client's.
   */
  static boolean browser() {
    return Boolean.getBoolean("browser");
  }

  /**
   * The extra headers of a WebSocket handshake: none, or with {@code -Dbrowser=true} those Chrome 131 sends on an
   * upgrade from a page served by the (first) server; {@link #protocol()} then leaves out its Accept and
   * Content-Type headers, which a browser's upgrade does not have. Gatling's client (Netty) adds Host, Upgrade,
   * Connection, Sec-WebSocket-Key and Sec-WebSocket-Version, and merges its own permessage-deflate offer into
   * Sec-WebSocket-Extensions (it sends one without this flag too). The server negotiates no extension: frames stay
   * uncompressed.
   */
  static Map<String, String> handshakeHeaders() {
    if (!browser()) return Map.of();
    URI page = URI.create(url());
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Pragma", "no-cache");
    h.put("Cache-Control", "no-cache");
    h.put("User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36");
    h.put("Origin", "http://" + page.getHost() + (page.getPort() < 0 ? "" : ":" + page.getPort()));
    h.put("Accept-Encoding", "gzip, deflate, br, zstd");
    h.put("Accept-Language", "en-US,en;q=0.9");
    h.put("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
    return java.util.Collections.unmodifiableMap(h); // in the order Chrome sends them
  }

  /** HTTP and WebSocket protocol; WebSocket source addresses spread over 127.0.0.1..N when -DsourceAddresses=N. */
  static HttpProtocolBuilder protocol() {
    // several nodes: virtual users (clients, senders) are spread over them round-robin
    List<String> urls = urls();
    HttpProtocolBuilder p = http.baseUrls(urls)
        .wsBaseUrls(urls.stream().map(u -> u.replaceFirst("^http", "ws")).toList()).shareConnections()
        .wsUnmatchedInboundMessageBufferSize(intProp("buffer", 10_000));
    // protocol headers go on WebSocket handshakes too, and a browser's upgrade has neither (the server reads API
    // bodies as JSON whatever their Content-Type)
    if (!browser()) p = p.acceptHeader("application/json").contentTypeHeader("application/json");
    int sources = intProp("sourceAddresses", 1);
    if (sources > 1) {
      List<String> addresses = new ArrayList<>();
      for (int i = 1; i <= sources; i++) addresses.add("127.0.0." + i);
      p = p.localAddresses(addresses);
    }
    return p;
  }

  /** Registers the load system (a duplicate is fine: it is already there). */
  static void registerSystem() {
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url() + "/api/register"))
          .header("Authorization", bearer()).timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofString("{\"systemId\":\"" + system() + "\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) throw new IllegalStateException("register failed: " + r.statusCode() + " " + r.body());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException("server not reachable at " + url(), e);
    }
  }

  /** ~100-byte payload with a sequence number and the send time (epoch ms). */
  static String payload(long seq) {
    return "{\"seq\":" + seq + ",\"ts\":" + System.currentTimeMillis() + ",\"pad\":\"the quick brown fox jumps over the lazy dog\"}";
  }

  /** A number that follows {@code key} in a frame ("seq", "ts"), or -1. */
  static long number(String frame, String key) {
    int i = frame.indexOf("\"" + key + "\":");
    if (i < 0) return -1;
    i += key.length() + 3;
    long v = 0;
    boolean any = false;
    while (i < frame.length() && Character.isDigit(frame.charAt(i))) {
      v = v * 10 + (frame.charAt(i++) - '0');
      any = true;
    }
    return any ? v : -1;
  }

  static String text(WsInboundMessage m) {
    return m instanceof WsInboundMessage.Text t ? t.message() : "";
  }

  /**
   * End-to-end latency histogram in milliseconds (send time in the payload to the receive time at the client), whole
   * run; with {@code -DsteadyAfter=<s>} also those of the messages sent that many seconds or more after the
   * simulation started (the steady state: JVMs warmed up, connects and joins done), reported on a second line.
   */
  static final class Latency {
    private static final int STEADY_AFTER = intProp("steadyAfter", 0);
    private static final long STEADY_FROM = System.currentTimeMillis() + 1000L * STEADY_AFTER;
    private final AtomicLongArray counts = new AtomicLongArray(60_001);
    private final Latency steady;

    Latency() {
      this(STEADY_AFTER > 0);
    }

    private Latency(boolean withSteady) {
      steady = withSteady ? new Latency(false) : null;
    }

    /** A message sent at {@code sentMillis} (its payload's ts) arrived at {@code receivedMillis}. */
    void record(long sentMillis, long receivedMillis) {
      counts.incrementAndGet((int) Math.max(0, Math.min(60_000, receivedMillis - sentMillis)));
      if (steady != null && sentMillis >= STEADY_FROM) steady.record(sentMillis, receivedMillis);
    }

    long total() {
      long n = 0;
      for (int i = 0; i < counts.length(); i++) n += counts.get(i);
      return n;
    }

    long percentile(double p) {
      long total = total();
      long rank = (long) Math.ceil(p / 100.0 * total);
      long seen = 0;
      for (int i = 0; i < counts.length(); i++) {
        seen += counts.get(i);
        if (seen >= rank && total > 0) return i;
      }
      return -1;
    }

    String report(String name) {
      return String.format("%s delivery latency (ms, 1 ms resolution): n=%d p50=%d p95=%d p99=%d p99.9=%d max=%d",
          name, total(), percentile(50), percentile(95), percentile(99), percentile(99.9), percentile(100));
    }

    void write(String name) {
      String line = report(name);
      if (steady != null) {
        line += System.lineSeparator() + steady.report(name).replace("delivery latency",
            "delivery latency, sent after the first " + STEADY_AFTER + " s");
      }
      System.out.println(line);
      try {
        Path out = Path.of("target", "latency-" + name + ".txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, line + System.lineSeparator());
      } catch (IOException e) {
        System.err.println("could not write latency report: " + e);
      }
    }
  }
}
