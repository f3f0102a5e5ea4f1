package io.pekkosocket.cluster;

/**
 * Marks every message that crosses nodes in cluster mode: bound to Pekko's {@code jackson-cbor} serializer
 * ({@code socket-defaults.conf}). Nothing else may cross: node-local messages (those carrying a connection's queue,
 * or an API call's local reply) live outside this package or implement {@code NoSerializationVerificationNeeded}.
 */
public interface CborSerializable {}
