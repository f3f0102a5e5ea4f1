package io.pekkosocket;

import static org.junit.jupiter.api.Assertions.fail;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real server as a separate JVM process (io.pekkosocket.Main on the test class path), for signals and kills. */
public final class ServerProcess implements AutoCloseable {
  public final Process process;
  public final int port;
  public final Path log;

  public ServerProcess(Path dataDir, String... jvmArgs) throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path work = Files.createTempDirectory("pekko-socket-proc");
    log = work.resolve("server.log");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m"));
    cmd.addAll(List.of(jvmArgs));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.pekkosocket.Main"));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("SOCKET_HTTP_HOST", "127.0.0.1");
    pb.environment().put("SOCKET_HTTP_PORT", Integer.toString(port));
    pb.environment().put("SOCKET_DATA_DIR", dataDir.toString());
    pb.environment().put("SOCKET_JWT_SECRET", TestServer.SECRET);
    process = pb.start();
  }

  public Api api() {
    return new Api(port, TestServer.ADMIN);
  }

  /** Awaits readiness (or the process's exit, which fails the test with its log). */
  public void awaitReady() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) fail("server exited with " + process.exitValue() + ":\n" + logText());
      try {
        if (api().get("/health/ready").status() == 200) return;
      } catch (AssertionError notYet) {
        // connection refused while starting
      }
      process.waitFor(100, TimeUnit.MILLISECONDS);
    }
    fail("server not ready within 60 s:\n" + logText());
  }

  public String logText() throws Exception {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws Exception {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }
}
