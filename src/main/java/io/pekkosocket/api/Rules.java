package io.pekkosocket.api;

import io.pekkosocket.registry.SystemIds;
import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.Push;
import java.util.List;

/**
 * The rules of each field, written once: every operation that takes a field applies the same rule, in the order
 * its request lists its fields. A broken rule throws {@link Refused}.
 */
final class Rules {
  private Rules() {}

  /** {@code clientId}: required. */
  static String clientId(String clientId) {
    if (clientId.isEmpty()) throw new Refused(ApiResult.required("ClientId"));
    return clientId;
  }

  /** {@code clientIds}: required (may be empty), at most {@code client-ids-per-send}. */
  static List<String> clientIds(List<String> clientIds, Limits limits) {
    if (clientIds == null) throw new Refused(ApiResult.required("ClientIds"));
    if (clientIds.size() > limits.maxClientIdsPerSend()) {
      throw new Refused(ApiResult.error("too many clientIds (limit " + limits.maxClientIdsPerSend() + ")"));
    }
    return List.copyOf(clientIds);
  }

  /** {@code groupName}: required, at most {@code group-name-length} characters. */
  static String groupName(String groupName, Limits limits) {
    if (groupName.isEmpty()) throw new Refused(ApiResult.required("GroupName"));
    return atMost("groupName", groupName, limits.maxGroupName());
  }

  /** {@code userId} and {@code extend}: optional, at most {@code user-field-length} characters. */
  static String userField(String field, String value, Limits limits) {
    return atMost(field, value, limits.maxUserField());
  }

  /** {@code systemId} of the admin operations: required. */
  static String systemId(String systemId) {
    if (systemId.isEmpty()) throw new Refused(ApiResult.required("SystemId"));
    return systemId;
  }

  /** {@code systemId} of {@code register}: required, and a shape that can be registered ({@link SystemIds}). */
  static String newSystemId(String systemId) {
    String problem = SystemIds.problem(systemId(systemId));
    if (problem != null) throw new Refused(ApiResult.error(problem));
    return systemId;
  }

  /** The push of a send: its frame must fit a connection's outbound queue (answered 413). */
  static Push push(Body body, Limits limits) {
    Push push = body.push();
    if (limits.tooLarge(push)) throw new Refused(ApiResult.TOO_LARGE);
    return push;
  }

  private static String atMost(String field, String value, int max) {
    if (value.length() > max) throw new Refused(ApiResult.error(field + " too long (max " + max + " characters)"));
    return value;
  }
}
