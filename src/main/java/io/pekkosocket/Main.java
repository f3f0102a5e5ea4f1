package io.pekkosocket;

import com.typesafe.config.Config;
import org.apache.pekko.actor.CoordinatedShutdown;
import io.pekkosocket.auth.Tokens;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The command line: {@code java -jar target/pekko-socket.jar [server | token … | check-config | version | --help]}
 * ({@link #USAGE}). {@code server} (the default) starts the server from {@link Settings#load()}.
 */
public final class Main {
  private Main() {}

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  static final String USAGE = """
      usage: java -jar pekko-socket.jar [command]

      commands:
        server        start the server (the default when no command is given)
        token --role admin|system|client [--system-id ID] [--user-id U] [--ttl 24h] [--key-file F]
                      print a token: admin (every system, register), system (the API of --system-id),
                      client (only /ws of --system-id, optional --user-id); signed with the configured
                      secret, or with a system's own key from --key-file
        check-config  print the effective configuration (every socket key, its value and where it came
                      from; secrets masked) and exit 0, or print the problem and exit 1
        version       print the version
        --help        print this help

      Settings: built-in defaults < config/application.conf (or -Dconfig.file=F) < environment variables
      (SOCKET_ + the key in upper case, . and - as _) < -Dsocket.<key>=value. See docs/OPERATIONS.md.
      """;

  public static void main(String[] args) {
    String command = args.length == 0 ? "server" : args[0];
    switch (command) {
      case "--help", "-h", "help" -> {
        System.out.print(USAGE);
        System.exit(0);
      }
      case "version", "--version" -> {
        System.out.println("pekko-socket " + version());
        System.exit(0);
      }
      case "server", "token", "check-config" -> { }
      default -> {
        System.err.print("unknown command: " + command + "\n" + USAGE);
        System.exit(2);
      }
    }
    if (!command.equals("token") && args.length > 1) {
      System.err.print(command + ": takes no options, got " + args[1] + "\n" + USAGE);
      System.exit(2);
    }
    Config config;
    Settings settings;
    try {
      config = Settings.load();
      settings = Settings.from(config);
    } catch (Settings.InvalidSetting | com.typesafe.config.ConfigException e) {
      // a setting that makes no sense (or cannot be read) stops every command
      System.err.println("pekko-socket: " + e.getMessage());
      System.exit(1);
      return;
    }
    for (String unknown : ConfigKeys.unknownEnv(System.getenv())) {
      String warning = "environment variable " + unknown + " is not a setting of pekko-socket and is ignored "
          + "(the names: docs/OPERATIONS.md, \"Environment variables\")";
      if (command.equals("server")) log.warn(warning);
      else System.err.println("pekko-socket: warning: " + warning);
    }
    if (command.equals("token")) System.exit(printToken(settings, args));
    if (command.equals("check-config")) System.exit(checkConfig(config, System.out));
    Server.start(config).whenComplete((server, error) -> {
      if (error != null) {
        System.err.println("pekko-socket failed to start: " + error.getMessage());
        System.exit(1);
      }
      onSigterm(server);
      exitWhenStopped(server);
    });
  }

  /**
   * A server that stops by itself in cluster mode ends the process: exit status 3 when refused for a duplicate
   * node-id, 2 when the cluster downed this node (after its drain), so a process supervisor restarts it as a new
   * member.
   */
  private static void exitWhenStopped(Server server) {
    server.system().getWhenTerminated().thenRun(() -> {
      var reason = CoordinatedShutdown.get(server.system()).getShutdownReason();
      // SIGTERM exits 0 on its own; a JVM already shutting down (SIGINT) must not be asked to exit again
      if (reason.isEmpty()) return;
      if (reason.get() == Server.DUPLICATE_NODE_ID) System.exit(3);
      if (reason.get() == CoordinatedShutdown.clusterDowningReason()) System.exit(2);
    });
  }

  /** Prints the effective configuration of a valid {@code config} (secrets masked); the exit status. */
  static int checkConfig(Config config, java.io.PrintStream out) {
    out.println("# pekko-socket " + version() + ": effective configuration (precedence: -D > env > file > default)");
    ConfigKeys.describe(config).forEach(out::println);
    out.println("# configuration OK");
    return 0;
  }

  /** The version of the build: from the resource Maven fills in, else the jar's manifest. */
  static String version() {
    try (java.io.InputStream in = Main.class.getResourceAsStream("/pekko-socket.properties")) {
      if (in != null) {
        java.util.Properties p = new java.util.Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.isBlank() && !v.startsWith("${")) return v;
      }
    } catch (java.io.IOException e) {
      // fall through to the manifest
    }
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "unknown" : v;
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

  /** The environment variable that holds a system's key for {@code token --role system|client} (issue 9). */
  static final String SYSTEM_KEY_ENV = "SOCKET_SYSTEM_KEY";

  static int printToken(Settings settings, String[] args) {
    return printToken(settings, args, System.getenv(), System.out, System.err);
  }

  /**
   * {@code token --role admin|system|client [--system-id X] [--user-id U] [--ttl 24h] [--key-file F]}: prints a token
   * signed with the server's secret or, given a system's key ({@code --key-file}, else {@code SOCKET_SYSTEM_KEY}),
   * a system or client token signed with that key (header {@code kid} = the systemId). Never prints the key.
   */
  static int printToken(Settings settings, String[] args, java.util.Map<String, String> env, java.io.PrintStream out,
      java.io.PrintStream err) {
    String role = null;
    String systemId = null;
    String userId = null;
    String keyFile = null;
    Duration ttl = Duration.ofHours(24);
    try {
      for (int i = 1; i < args.length; i++) {
        String value = i + 1 < args.length ? args[i + 1] : null;
        switch (args[i]) {
          case "--role" -> role = value;
          case "--system-id" -> systemId = value;
          case "--user-id" -> userId = value;
          case "--key-file" -> keyFile = value;
          case "--ttl" -> ttl = com.typesafe.config.ConfigFactory.parseString("t = " + value).getDuration("t");
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
        i++;
        if (value == null) throw new IllegalArgumentException("missing value for " + args[i - 1]);
      }
    } catch (RuntimeException e) {
      err.println("token: " + e.getMessage());
      return 2;
    }
    if (!Tokens.ADMIN.equals(role) && !Tokens.SYSTEM.equals(role) && !Tokens.CLIENT.equals(role)) {
      err.println("token: --role must be admin, system or client (client: a connect token for /ws, for browsers)");
      return 2;
    }
    if (!Tokens.ADMIN.equals(role) && systemId == null) {
      err.println("token: a " + role + " token needs --system-id");
      return 2;
    }
    String key;
    try {
      key = keyFile != null ? Files.readString(Path.of(keyFile), StandardCharsets.UTF_8).strip()
          : env.getOrDefault(SYSTEM_KEY_ENV, "").strip();
    } catch (java.io.IOException | RuntimeException e) {
      err.println("token: cannot read the key file " + keyFile + " (" + e.getClass().getSimpleName() + ")");
      return 2;
    }
    if (keyFile != null && key.isEmpty()) {
      err.println("token: the key file " + keyFile + " is empty");
      return 2;
    }
    if (!key.isEmpty()) {
      if (Tokens.ADMIN.equals(role)) {
        err.println("token: a system's key signs only system and client tokens; an admin token needs the server's "
            + "secret (unset " + SYSTEM_KEY_ENV + ", drop --key-file)");
        return 2;
      }
      out.println(Tokens.issueWithSystemKey(key, role, systemId, userId, ttl));
      return 0;
    }
    if (settings.jwtSecret().isEmpty()) {
      err.println("token: no secret configured; set SOCKET_JWT_SECRET (or socket.auth.jwt-secret) for both "
          + "the server and this command, or sign with a system's key (--key-file or " + SYSTEM_KEY_ENV + ")");
      return 2;
    }
    Tokens tokens = new Tokens(settings.jwtSecret().getBytes(StandardCharsets.UTF_8));
    out.println(tokens.issue(role, systemId, userId, ttl));
    return 0;
  }
}
