package io.pekkosocket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's view of a TCP connection (Linux {@code /proc/net/tcp} and {@code tcp6}): whether the server's side
 * of a connection still exists, whatever the client's socket believes.
 */
public final class TcpTable {
  private TcpTable() {}

  /** Whether this machine exposes the kernel's tables (Linux); tests that need them assume it. */
  public static boolean available() {
    return Files.isReadable(Path.of("/proc/net/tcp"));
  }

  /** Kernel state names by their hex code in /proc/net/tcp. */
  private static final List<String> STATES = List.of("?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
      "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV");

  /**
   * The state of the socket whose local port is {@code localPort} and remote port {@code remotePort} (on
   * loopback), or empty when the kernel holds no such socket.
   */
  public static Optional<String> state(int localPort, int remotePort) {
    for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
      List<String> lines;
      try {
        lines = Files.readAllLines(Path.of(table));
      } catch (IOException e) {
        continue;
      }
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.trim().split("\\s+");
        if (port(f[1]) == localPort && port(f[2]) == remotePort) {
          return Optional.of(STATES.get(Integer.parseInt(f[3], 16)));
        }
      }
    }
    return Optional.empty();
  }

  private static int port(String address) {
    return Integer.parseInt(address.substring(address.indexOf(':') + 1), 16);
  }
}
