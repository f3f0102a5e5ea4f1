package io.pekkosocket.ws;

import java.util.Optional;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.UpgradeToWebSocketLowLevel;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.javadsl.Flow;
import scala.Option;

/**
 * The WebSocket handshake of one request, served at the frame level by a {@link ConnectionStage}: the public
 * message-level API can only close with 1000 or 1011, and PROTOCOL.md needs the other codes. The one place that
 * touches Pekko HTTP's (internal) frame-level upgrade.
 */
public final class Upgrade {
  private final UpgradeToWebSocketLowLevel upgrade;

  private Upgrade(UpgradeToWebSocketLowLevel upgrade) {
    this.upgrade = upgrade;
  }

  /** The request's upgrade, if it is a WebSocket handshake. */
  public static Optional<Upgrade> of(HttpRequest request) {
    Optional<WebSocketUpgrade> upgrade = request.getAttribute(AttributeKeys.webSocketUpgrade);
    return upgrade.filter(u -> u instanceof UpgradeToWebSocketLowLevel)
        .map(u -> new Upgrade((UpgradeToWebSocketLowLevel) u));
  }

  /** Accepts the handshake (101) and serves the connection with {@code stage}. */
  public HttpResponse accept(ConnectionStage stage) {
    @SuppressWarnings({"unchecked", "rawtypes"})
    Graph<FlowShape<FrameEvent, FrameEvent>, Object> g = (Graph) Flow.fromGraph(stage);
    return upgrade.handleFrames(g, Option.empty());
  }
}
