package io.pekkosocket;

import com.typesafe.config.Config;

/** Starts the server from {@link Settings#load()}: {@code java -jar target/pekko-socket.jar}. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    Config config = Settings.load();
    Server.start(config).whenComplete((server, error) -> {
      if (error != null) {
        System.err.println("pekko-socket failed to start: " + error.getMessage());
        System.exit(1);
      }
    });
  }
}
