package io.pekkosocket.api;

import static org.junit.jupiter.api.Assertions.*;

import io.pekkosocket.wire.ApiResult;
import io.pekkosocket.wire.FrameEncoder;
import io.pekkosocket.wire.Payload;
import io.pekkosocket.wire.Push;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The declaration of the API: one rule per field, applied the same by every operation that takes the field. */
class OperationTest {
  static final Limits LIMITS = new Limits(256, 1024, 1000, 4L << 20, new FrameEncoder(true, true), 100);

  /** A body of string fields (absent: ""), and an empty push. */
  record Fields(Map<String, String> values) implements Body {
    static Fields of(String... kv) {
      Map<String, String> m = new HashMap<>();
      for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
      return new Fields(m);
    }

    @Override
    public String string(String name) {
      return values.getOrDefault(name, "");
    }

    @Override
    public List<String> strings(String name) {
      String v = values.get(name);
      return v == null ? null : List.of(v);
    }

    @Override
    public long integer(String name, long absent) {
      String v = values.get(name);
      return v == null ? absent : Long.parseLong(v);
    }

    @Override
    public Push push() {
      return new Push("", 0, "", Payload.EMPTY);
    }

    @Override
    public List<Body> commands() {
      return null;
    }
  }

  static ApiResult<?> refusal(Operation op, Body body) {
    Refused r = assertThrows(Refused.class, () -> op.read(body, LIMITS), op.wireName());
    return r.answer();
  }

  @Test
  void theNamesAreTheApisOperations() {
    assertEquals(Set.of("register", "send_to_client", "send_to_clients", "send_to_group", "send_to_system",
        "bind_to_group", "unbind_from_group", "get_online_list", "get_all_groups", "close_client",
        "rotate_system_key", "batch"), Operation.NAMES);
    for (Operation op : Operation.values()) assertSame(op, Operation.named(op.wireName()));
    assertNull(Operation.named("no_such_op"));
    assertEquals(Set.of(Operation.REGISTER, Operation.ROTATE_SYSTEM_KEY),
        Set.copyOf(java.util.Arrays.stream(Operation.values()).filter(Operation::adminOnly).toList()));
  }

  @Test
  void groupNameIsRequiredAndAtMost256CharactersForEveryOperationThatTakesIt() {
    ApiResult tooLong = ApiResult.error("groupName too long (max 256 characters)");
    for (Operation op : List.of(Operation.SEND_TO_GROUP, Operation.BIND_TO_GROUP, Operation.UNBIND_FROM_GROUP,
        Operation.GET_ONLINE_LIST)) {
      assertEquals(tooLong, refusal(op, Fields.of("clientId", "c", "groupName", "g".repeat(257))));
      assertEquals(ApiResult.required("GroupName"), refusal(op, Fields.of("clientId", "c")));
      assertNotNull(op.read(Fields.of("clientId", "c", "groupName", "g".repeat(256)), LIMITS));
    }
  }

  @Test
  void clientIdIsRequiredForEveryOperationThatTakesIt() {
    for (Operation op : List.of(Operation.SEND_TO_CLIENT, Operation.BIND_TO_GROUP, Operation.UNBIND_FROM_GROUP,
        Operation.CLOSE_CLIENT)) {
      assertEquals(ApiResult.required("ClientId"), refusal(op, Fields.of("groupName", "g")), op.wireName());
    }
    assertNotNull(Operation.GET_ALL_GROUPS.read(Fields.of(), LIMITS), "get_all_groups takes no required clientId");
  }

  @Test
  void theFieldsAreCheckedInTheOrderTheRequestListsThem() {
    // bind: clientId, groupName, userId, extend
    assertEquals(ApiResult.required("ClientId"),
        refusal(Operation.BIND_TO_GROUP, Fields.of("groupName", "g".repeat(257), "userId", "u".repeat(1025))));
    assertEquals(ApiResult.error("groupName too long (max 256 characters)"), refusal(Operation.BIND_TO_GROUP,
        Fields.of("clientId", "c", "groupName", "g".repeat(257), "userId", "u".repeat(1025))));
    assertEquals(ApiResult.error("userId too long (max 1024 characters)"), refusal(Operation.BIND_TO_GROUP,
        Fields.of("clientId", "c", "groupName", "g", "userId", "u".repeat(1025), "extend", "e".repeat(1025))));
    assertEquals(ApiResult.error("extend too long (max 1024 characters)"), refusal(Operation.BIND_TO_GROUP,
        Fields.of("clientId", "c", "groupName", "g", "extend", "e".repeat(1025))));
    assertEquals(new Request.Bind("c", "g", "u", "e"),
        Operation.BIND_TO_GROUP.read(Fields.of("clientId", "c", "groupName", "g", "userId", "u", "extend", "e"),
            LIMITS));
  }

  @Test
  void theAdminOperationsCheckTheirSystemId() {
    assertEquals(ApiResult.required("SystemId"), refusal(Operation.REGISTER, Fields.of()));
    assertEquals(ApiResult.required("SystemId"), refusal(Operation.ROTATE_SYSTEM_KEY, Fields.of()));
    assertEquals(ApiResult.error("graceSeconds must be an integer from 0 to 2592000"),
        refusal(Operation.ROTATE_SYSTEM_KEY, Fields.of("systemId", "s", "graceSeconds", "-1")));
    assertEquals(-1, refusal(Operation.REGISTER, Fields.of("systemId", " padded")).code());
  }
}
