package io.pekkosocket.cluster;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * What a SystemActor needs in cluster mode: this node's tag and router (where group sequencers send this node's
 * share of a group), and the way to a group's sequencer. Null in a single node.
 */
public record ClusterNode(String tag, ActorRef<Wire.ToNode> router, ClusterSharding sharding) {
  public EntityRef<Object> sequencer(String systemId, String group) {
    return sharding.entityRefFor(GroupSequencer.KEY, GroupSequencer.entityId(systemId, group));
  }
}
