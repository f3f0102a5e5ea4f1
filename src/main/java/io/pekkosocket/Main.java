package io.pekkosocket;

import com.typesafe.config.Config;
import org.apache.pekko.actor.CoordinatedShutdown;
import io.pekkosocket.auth.Tokens;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * {@code java -jar target/pekko-socket.jar} starts the server from {@link Settings#load()};
 * {@code java -jar target/pekko-socket.jar token --role admin|system [--system-id X] [--user-id U] [--ttl 24h]}
 * prints a token signed with the configured secret.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    Config config;
    Settings settings;
    try {
      config = Settings.load();
      settings = Settings.from(config);
    } catch (Settings.InvalidSetting | com.typesafe.config.ConfigException e) {
      // a setting that makes no sense (or cannot be read) stops both the server and the token command
      System.err.println("pekko-socket: " + e.getMessage());
      System.exit(1);
      return;
    }
    if (args.length > 0 && args[0].equals("token")) {
      System.exit(printToken(settings, args));
    }
    if (args.length > 0) {
      System.err.println("unknown command: " + args[0] + "\nusage: pekko-socket [token --role admin|system "
          + "[--system-id ID] [--user-id ID] [--ttl 24h]]");
      System.exit(2);
    }
    Server.start(config).whenComplete((server, error) -> {
      if (error != null) {
        System.err.println("pekko-socket failed to start: " + error.getMessage());
        System.exit(1);
      }
      onSigterm(server);
    });
  }

  private enum SigTerm implements CoordinatedShutdown.Reason { INSTANCE }

  /**
   * SIGTERM runs the coordinated shutdown (drain, then stop) and exits 0 once it has finished, instead of the JVM's
   * default 143. Other signals keep Pekko's shutdown hook.
   */
  private static void onSigterm(Server server) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal ->
          CoordinatedShutdown.get(server.system()).runAll(SigTerm.INSTANCE)
              .whenComplete((done, failure) -> System.exit(failure == null ? 0 : 1)));
    } catch (IllegalArgumentException unsupported) {
      // no TERM handling on this platform (or -Xrs): Pekko's JVM shutdown hook still drains
    }
  }

  static int printToken(Settings settings, String[] args) {
    String role = null;
    String systemId = null;
    String userId = null;
    Duration ttl = Duration.ofHours(24);
    try {
      for (int i = 1; i < args.length; i++) {
        String value = i + 1 < args.length ? args[i + 1] : null;
        switch (args[i]) {
          case "--role" -> role = value;
          case "--system-id" -> systemId = value;
          case "--user-id" -> userId = value;
          case "--ttl" -> ttl = com.typesafe.config.ConfigFactory.parseString("t = " + value).getDuration("t");
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
        i++;
        if (value == null) throw new IllegalArgumentException("missing value for " + args[i - 1]);
      }
    } catch (RuntimeException e) {
      System.err.println("token: " + e.getMessage());
      return 2;
    }
    if (!Tokens.ADMIN.equals(role) && !Tokens.SYSTEM.equals(role)) {
      System.err.println("token: --role must be admin or system");
      return 2;
    }
    if (Tokens.SYSTEM.equals(role) && systemId == null) {
      System.err.println("token: a system token needs --system-id");
      return 2;
    }
    if (settings.jwtSecret().isEmpty()) {
      System.err.println("token: no secret configured; set SOCKET_JWT_SECRET (or socket.auth.jwt-secret) for both "
          + "the server and this command");
      return 2;
    }
    Tokens tokens = new Tokens(settings.jwtSecret().getBytes(StandardCharsets.UTF_8));
    System.out.println(tokens.issue(role, systemId, userId, ttl));
    return 0;
  }
}
