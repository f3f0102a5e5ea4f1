package io.pekkosocket.registry;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * What kill -9 cannot show (DurabilityTest): the store's own connection really runs in WAL mode with
 * synchronous=FULL, so a register that answered has been fsynced, not just handed to the page cache.
 */
class SystemStoreTest {

  @Test
  void theStoresConnectionSyncsEveryCommitInWalMode() throws Exception {
    try (SystemStore store = SystemStore.open(Files.createTempDirectory("store-pragma"))) {
      assertEquals("2", store.pragma("synchronous"), "2 = FULL");
      assertEquals("wal", store.pragma("journal_mode"));
      assertTrue(store.insert("a"));
      assertEquals("2", store.pragma("synchronous"), "still FULL after a write");
    }
  }

  @Test
  void onlyTheReadBackPragmasAreAccepted() throws Exception {
    try (SystemStore store = SystemStore.open(Files.createTempDirectory("store-pragma"))) {
      assertThrows(IllegalArgumentException.class, () -> store.pragma("synchronous=OFF"));
    }
  }
}
