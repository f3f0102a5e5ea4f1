package io.pekkosocket;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A real WebSocket client (java.net.http) that records every text frame and the close it got. */
public final class WsClient implements AutoCloseable {
  public static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /** How the connection ended; {@code atNanos} is System.nanoTime() when the client saw it. */
  public record Closed(int code, String reason, long atNanos) {
    public Closed(int code, String reason) {
      this(code, reason, System.nanoTime());
    }
  }

  private final LinkedBlockingQueue<String> frames = new LinkedBlockingQueue<>();
  private final CompletableFuture<Closed> closed = new CompletableFuture<>();
  private final CompletableFuture<ByteBuffer> pong = new CompletableFuture<>();
  private WebSocket ws;
  public String clientId;

  public static CompletableFuture<WsClient> openAsync(String url, Map<String, String> headers) {
    WsClient c = new WsClient();
    WebSocket.Builder b = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
    headers.forEach(b::header);
    return b.buildAsync(URI.create(url), c.listener()).thenApply(ws -> {
      c.ws = ws;
      return c;
    });
  }

  public static WsClient open(String url, Map<String, String> headers) {
    try {
      return openAsync(url, headers).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("WebSocket connect failed: " + url, e);
    }
  }

  private WebSocket.Listener listener() {
    return new WebSocket.Listener() {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          frames.add(partial.toString());
          partial.setLength(0);
        }
        w.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
        w.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onPong(WebSocket w, ByteBuffer message) {
        pong.complete(message);
        w.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
        closed.complete(new Closed(statusCode, reason));
        return null;
      }

      @Override
      public void onError(WebSocket w, Throwable error) {
        closed.complete(new Closed(-1, String.valueOf(error)));
      }
    };
  }

  /** The next text frame, exactly as received. */
  public String next() {
    try {
      String f = frames.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (f == null) throw new AssertionError("no frame within " + TIMEOUT);
      return f;
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** The next text frame if one comes within {@code wait}, else null. */
  public String poll(Duration wait) {
    try {
      return frames.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  public JsonNode nextJson() {
    try {
      return Api.JSON.readTree(next());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Frames already received and not yet taken. */
  public List<String> drain() {
    List<String> out = new ArrayList<>();
    frames.drainTo(out);
    return out;
  }

  public String awaitWelcome() {
    JsonNode w = nextJson();
    if (w.path("code").asInt(-99) != 0) throw new AssertionError("not a welcome: " + w);
    clientId = w.get("data").get("clientId").asText();
    return clientId;
  }

  public Closed awaitClose() {
    try {
      return closed.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("connection was not closed within " + TIMEOUT, e);
    }
  }

  public CompletableFuture<Closed> closedFuture() {
    return closed;
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  public ByteBuffer ping(ByteBuffer payload) {
    try {
      ws.sendPing(payload).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      return pong.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  public void sendText(String text) {
    try {
      ws.sendText(text, true).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  public void sendBinary(byte[] data) {
    try {
      ws.sendBinary(ByteBuffer.wrap(data), true).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Sends a close frame with the given code (the server answers and ends the connection). */
  public void closeWith(int code) {
    ws.sendClose(code, "bye");
  }

  /** Drops the TCP connection without a close frame. */
  public void abort() {
    ws.abort();
    closed.complete(new Closed(-2, "aborted by the client"));
  }

  @Override
  public void close() {
    if (ws != null && !closed.isDone()) ws.abort();
  }
}
