package io.pekkosocket.wire;

/** A business push before encoding: the fields of PROTOCOL.md's push envelope except the messageId. */
public record Push(String sendUserId, long code, String msg, Payload data) {}
