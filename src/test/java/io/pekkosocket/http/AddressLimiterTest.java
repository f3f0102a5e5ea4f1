package io.pekkosocket.http;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** The per-address handshake limiter stays bounded whatever number of addresses it sees. */
class AddressLimiterTest {

  private static InetAddress address(int i) throws Exception {
    return InetAddress.getByAddress(new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i});
  }

  @Test
  void manyAddressesNeverGrowTheMapBeyondItsBound() throws Exception {
    AddressLimiter limiter = new AddressLimiter(5, 1000);
    for (int i = 0; i < 50_000; i++) assertTrue(limiter.tryAcquire(address(i)), "a fresh address has a full bucket");
    assertEquals(1000, limiter.size());
  }
}
