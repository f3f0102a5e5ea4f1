package io.pekkosocket;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Pekko HTTP's internal API ({@code org.apache.pekko.http.impl}) is used only under {@code ws/}. */
class ImplConfinementTest {

  @Test
  void onlyTheWsPackageTouchesPekkoHttpInternals() throws IOException {
    Path main = Path.of("src/main/java");
    Path ws = main.resolve("io/pekkosocket/ws");
    List<Path> offenders;
    try (Stream<Path> files = Files.walk(main)) {
      offenders = files.filter(f -> f.toString().endsWith(".java") && !f.startsWith(ws))
          .filter(f -> read(f).contains("org.apache.pekko.http.impl"))
          .toList();
    }
    assertTrue(Files.isDirectory(ws), "run from the repository root");
    assertEquals(List.of(), offenders, "files outside ws/ that use Pekko HTTP's internal API");
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
