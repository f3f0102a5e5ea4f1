package io.pekkosocket.api;

import io.pekkosocket.wire.Push;
import java.time.Duration;
import java.util.List;

/**
 * The request of each operation, read from its body and checked by {@link Rules}. Every {@code read} reads the
 * operation's own fields first (a wrong type is a 400), then checks them in the order listed, then reads and sizes
 * the push, if any: the first problem found is the answer.
 */
public sealed interface Request {

  /** {@code register}. */
  record Register(String systemId) implements Request {
    static Register read(Body b, Limits l) {
      return new Register(Rules.newSystemId(b.string("systemId")));
    }
  }

  /** {@code rotate_system_key} (admin): the system is named in the body, not in the SystemId header. */
  record RotateKey(String systemId, Duration grace) implements Request {
    /** The longest grace a rotation may give the previous key. */
    public static final long MAX_GRACE_SECONDS = Duration.ofDays(30).toSeconds();
    public static final long DEFAULT_GRACE_SECONDS = Duration.ofDays(1).toSeconds();

    static RotateKey read(Body b, Limits l) {
      String systemId = b.string("systemId");
      long grace = b.integer("graceSeconds", DEFAULT_GRACE_SECONDS);
      Rules.systemId(systemId);
      if (grace < 0 || grace > MAX_GRACE_SECONDS) {
        throw new Refused(io.pekkosocket.wire.ApiResult.error(
            "graceSeconds must be an integer from 0 to " + MAX_GRACE_SECONDS));
      }
      return new RotateKey(systemId, Duration.ofSeconds(grace));
    }
  }

  /** {@code send_to_client}. */
  record SendToClient(String clientId, Push push) implements Request {
    static SendToClient read(Body b, Limits l) {
      String clientId = Rules.clientId(b.string("clientId"));
      return new SendToClient(clientId, Rules.push(b, l));
    }
  }

  /** {@code send_to_clients}. */
  record SendToClients(List<String> clientIds, Push push) implements Request {
    static SendToClients read(Body b, Limits l) {
      List<String> clientIds = Rules.clientIds(b.strings("clientIds"), l);
      return new SendToClients(clientIds, Rules.push(b, l));
    }
  }

  /** {@code send_to_group}. */
  record SendToGroup(String groupName, Push push) implements Request {
    static SendToGroup read(Body b, Limits l) {
      String groupName = Rules.groupName(b.string("groupName"), l);
      return new SendToGroup(groupName, Rules.push(b, l));
    }
  }

  /** {@code send_to_system}. */
  record SendToSystem(Push push) implements Request {
    static SendToSystem read(Body b, Limits l) {
      return new SendToSystem(Rules.push(b, l));
    }
  }

  /** {@code bind_to_group}. */
  record Bind(String clientId, String groupName, String userId, String extend) implements Request {
    static Bind read(Body b, Limits l) {
      String clientId = b.string("clientId");
      String groupName = b.string("groupName");
      String userId = b.string("userId");
      String extend = b.string("extend");
      return new Bind(Rules.clientId(clientId), Rules.groupName(groupName, l),
          Rules.userField("userId", userId, l), Rules.userField("extend", extend, l));
    }
  }

  /** {@code unbind_from_group}. */
  record Unbind(String clientId, String groupName) implements Request {
    static Unbind read(Body b, Limits l) {
      String clientId = b.string("clientId");
      String groupName = b.string("groupName");
      return new Unbind(Rules.clientId(clientId), Rules.groupName(groupName, l));
    }
  }

  /** {@code get_online_list}. */
  record GetOnlineList(String groupName) implements Request {
    static GetOnlineList read(Body b, Limits l) {
      return new GetOnlineList(Rules.groupName(b.string("groupName"), l));
    }
  }

  /** {@code get_all_groups}: {@code clientId} is accepted and unused, but still type-checked. */
  record GetAllGroups() implements Request {
    static GetAllGroups read(Body b, Limits l) {
      b.string("clientId");
      return new GetAllGroups();
    }
  }

  /**
   * {@code batch}: up to {@code max-batch} commands of the send, bind, unbind and close operations, for the one
   * system of the call. Their shape as a whole is checked here (400); each command is read on its own when it runs,
   * and a broken one fails alone.
   */
  record Batch(List<Body> commands) implements Request {
    /** The operations a batch may carry. */
    public static final java.util.Set<String> OPERATIONS = java.util.Set.of("send_to_client", "send_to_clients",
        "send_to_group", "send_to_system", "bind_to_group", "unbind_from_group", "close_client");

    static Batch read(Body b, Limits l) {
      List<Body> commands = b.commands();
      if (commands == null) throw new Malformed("commands must be an array of commands");
      if (commands.isEmpty()) throw new Malformed("commands is empty");
      if (commands.size() > l.maxBatch()) {
        throw new Malformed("too many commands (limit " + l.maxBatch() + ")");
      }
      return new Batch(commands);
    }
  }

  /** {@code close_client}. */
  record CloseClient(String clientId) implements Request {
    static CloseClient read(Body b, Limits l) {
      return new CloseClient(Rules.clientId(b.string("clientId")));
    }
  }
}
