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

  /** {@code close_client}. */
  record CloseClient(String clientId) implements Request {
    static CloseClient read(Body b, Limits l) {
      return new CloseClient(Rules.clientId(b.string("clientId")));
    }
  }
}
