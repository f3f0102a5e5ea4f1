package io.pekkosocket.http;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@link RateLimiter} per client address, for {@code socket.limits.handshakes-per-address}. The map is bounded:
 * beyond {@code maxAddresses} the least recently seen address is forgotten (a bucket unused for a second is full
 * again anyway, so forgetting it changes nothing; only more than {@code maxAddresses} addresses active within the
 * same second can reset each other, and that attack needs a front proxy, see docs/OPERATIONS.md). Thread-safe.
 */
final class AddressLimiter {
  static final int MAX_ADDRESSES = 16_384;

  private final int perSecond;
  private final Map<InetAddress, RateLimiter> buckets;

  AddressLimiter(int perSecond, int maxAddresses) {
    this.perSecond = perSecond;
    this.buckets = new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<InetAddress, RateLimiter> eldest) {
        return size() > maxAddresses;
      }
    };
  }

  synchronized boolean tryAcquire(InetAddress address) {
    return buckets.computeIfAbsent(clientOf(address), a -> new RateLimiter(perSecond)).tryAcquire();
  }

  /**
   * Who an address stands for: an IPv4 address itself, an IPv6 address its /64 (one host is commonly given a whole
   * /64, so counting each of its addresses apart would let it bypass the limit and flush everyone else's buckets).
   */
  static InetAddress clientOf(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (bytes.length != 16) return address;
    java.util.Arrays.fill(bytes, 8, 16, (byte) 0);
    try {
      return InetAddress.getByAddress(bytes);
    } catch (java.net.UnknownHostException impossible) {
      return address; // 16 bytes are always a valid IPv6 address
    }
  }

  synchronized int size() {
    return buckets.size();
  }
}
