package io.pekkosocket.api;

import io.pekkosocket.wire.ApiResult;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The HTTP API ({@code POST /api/<name>}), declared once: each operation's name, who may call it, how its request is
 * read and checked ({@link Request}, {@link Rules}), and the type of its reply's {@code data}
 * ({@link ApiResult.Empty} where the data has no shape: {@code []} or {@code {}}). The route dispatches on it and
 * asks with that type, {@code Metrics} labels by it, the test client is typed by it.
 */
public enum Operation {
  REGISTER("register", true, Request.Register::read, ApiResult.Empty.class),
  ROTATE_SYSTEM_KEY("rotate_system_key", true, Request.RotateKey::read, ApiResult.KeyRotated.class),
  SEND_TO_CLIENT("send_to_client", false, Request.SendToClient::read, ApiResult.ClientDelivery.class),
  SEND_TO_CLIENTS("send_to_clients", false, Request.SendToClients::read, ApiResult.ClientsDelivery.class),
  SEND_TO_GROUP("send_to_group", false, Request.SendToGroup::read, ApiResult.FanOutDelivery.class),
  SEND_TO_SYSTEM("send_to_system", false, Request.SendToSystem::read, ApiResult.FanOutDelivery.class),
  BIND_TO_GROUP("bind_to_group", false, Request.Bind::read, ApiResult.Empty.class),
  UNBIND_FROM_GROUP("unbind_from_group", false, Request.Unbind::read, ApiResult.Empty.class),
  GET_ONLINE_LIST("get_online_list", false, Request.GetOnlineList::read, ApiResult.OnlineList.class),
  GET_ALL_GROUPS("get_all_groups", false, Request.GetAllGroups::read, ApiResult.AllGroups.class),
  CLOSE_CLIENT("close_client", false, Request.CloseClient::read, ApiResult.Empty.class),
  BATCH("batch", false, Request.Batch::read, ApiResult.BatchResults.class);

  private static final Map<String, Operation> BY_NAME =
      Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(Operation::wireName, Function.identity()));
  /** Every operation's name. */
  public static final Set<String> NAMES = BY_NAME.keySet();

  private final String wireName;
  private final boolean adminOnly;
  private final BiFunction<Body, Limits, ? extends Request> reader;
  private final Class<?> reply;

  Operation(String wireName, boolean adminOnly, BiFunction<Body, Limits, ? extends Request> reader,
      Class<?> reply) {
    this.wireName = wireName;
    this.adminOnly = adminOnly;
    this.reader = reader;
    this.reply = reply;
  }

  /** The operation named {@code name} in the path, or null. */
  public static Operation named(String name) {
    return BY_NAME.get(name);
  }

  /** The name in the path, {@code /api/<name>}. */
  public String wireName() {
    return wireName;
  }

  /** Only an admin token may call it; it acts on the system named in its body, not in the SystemId header. */
  public boolean adminOnly() {
    return adminOnly;
  }

  /** The type of the reply's {@code data}; {@link ApiResult.Empty} when the data has no shape ({@code []} or {@code {}}). */
  public Class<?> reply() {
    return reply;
  }

  /** The request, read and checked; a broken rule throws {@link Refused}, a wrong type the body's own error. */
  public Request read(Body body, Limits limits) {
    return reader.apply(body, limits);
  }
}
