import kafkajs, { type Kafka, type PartitionAssigner } from "kafkajs";

// kafkajs is CommonJS: Node's ESM loader does not find every named export; read it from the default export.
const { AssignerProtocol } = kafkajs;

/**
 * emb-indexers as one consumer group (INDEXER_GROUP). Each member says in its
 * group metadata (`userData`) who it is and where it answers queries, so the
 * console finds every instance and the partitions it owns from Kafka alone,
 * with no registry of its own:
 *
 *   {"v":1,"instance":"<INDEXER_INSTANCE>","url":"<INDEXER_ADVERTISED_URL>"}
 *
 * The assigner below gives each partition to one member, deterministically on
 * the instance ids, so a restart with the same members gives every instance
 * the partitions (and the index data) it had.
 */
export interface IndexerMember {
  instance: string;
  url: string;
}

/** Name of the assignment protocol; every indexer of a group must offer it (Kafka picks one all members share). */
export const INDEXER_ASSIGNER = "EmbedlineIndexerAssigner";
const ASSIGNER_VERSION = 1;

/** Largest userData read: ours is well under 1 KB; anything bigger is not ours. */
const MAX_USER_DATA_BYTES = 4096;
/** An instance id or URL longer than this is not one of ours. */
const MAX_FIELD_CHARS = 1024;

export function encodeIndexerMember(member: IndexerMember): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, instance: member.instance, url: member.url }), "utf8");
}

/** The member a userData names, or null when it is not ours (not JSON, another version, missing or oversized fields). */
export function decodeIndexerMember(userData: Buffer | null | undefined): IndexerMember | null {
  if (!userData || userData.length === 0 || userData.length > MAX_USER_DATA_BYTES) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(userData.toString("utf8"));
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const { v, instance, url } = parsed as Record<string, unknown>;
  if (v !== 1) return null;
  if (typeof instance !== "string" || instance.length === 0 || instance.length > MAX_FIELD_CHARS) return null;
  if (typeof url !== "string" || url.length > MAX_FIELD_CHARS || !/^https?:\/\//.test(url)) return null;
  return { instance, url };
}

/** The member's userData read out of kafkajs's MemberMetadata (version, topics, userData); null when unreadable or not ours. */
function memberOfMetadata(metadata: Buffer): IndexerMember | null {
  try {
    return decodeIndexerMember(AssignerProtocol.MemberMetadata.decode(metadata)?.userData);
  } catch {
    return null;
  }
}

/**
 * Which partitions each member gets: members sorted by instance id (ties, such
 * as two processes started with the same id by mistake, by member id),
 * partition p of the sorted partition list to member p mod N. Pure, so tests
 * check it directly. Members without our userData are sorted after ours under
 * their member id: they still get partitions, since a group must consume
 * every partition (an older indexer joining during a rolling upgrade).
 */
export function assignIndexerPartitions(members: { memberId: string; instance: string | null }[], partitions: readonly number[]): Map<string, number[]> {
  const sorted = [...members].sort((a, b) => {
    if ((a.instance === null) !== (b.instance === null)) return a.instance === null ? 1 : -1;
    const byInstance = (a.instance ?? "") < (b.instance ?? "") ? -1 : (a.instance ?? "") > (b.instance ?? "") ? 1 : 0;
    return byInstance !== 0 ? byInstance : a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
  });
  const out = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]));
  if (sorted.length === 0) return out;
  [...partitions].sort((a, b) => a - b).forEach((p, i) => out.get(sorted[i % sorted.length]!.memberId)!.push(p));
  return out;
}

/** The kafkajs partition assigner of the indexer group, advertising `self` in its metadata. */
export function indexerAssigner(self: IndexerMember): PartitionAssigner {
  return ({ cluster }) => ({
    name: INDEXER_ASSIGNER,
    version: ASSIGNER_VERSION,
    async assign({ members, topics }) {
      const decoded = members.map((m) => ({ memberId: m.memberId, instance: memberOfMetadata(m.memberMetadata)?.instance ?? null }));
      const perMember = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
      for (const topic of topics) {
        const partitions = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
        for (const [memberId, owned] of assignIndexerPartitions(decoded, partitions)) perMember.get(memberId)![topic] = owned;
      }
      return [...perMember].map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: ASSIGNER_VERSION, assignment, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: INDEXER_ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: ASSIGNER_VERSION, topics, userData: encodeIndexerMember(self) }) };
    },
  });
}

export interface IndexerInstance {
  memberId: string;
  instance: string;
  url: string;
  /** Partitions of `topic` this member owns (empty while the group rebalances). */
  partitions: number[];
}

export interface IndexerGroupView {
  instances: IndexerInstance[];
  /** The topic's partition count (0 when the topic does not exist yet). */
  partitions: number;
  /**
   * The group's state as the coordinator reports it ("Stable", "Empty",
   * "PreparingRebalance", "CompletingRebalance", "Dead"). While it rebalances
   * the coordinator lists members without their metadata, so `instances` is
   * empty even though indexers run and still answer for what they hold.
   */
  state: string;
}

/**
 * The indexers of `groupId` and the partitions of `topic` each owns, as the
 * group coordinator knows them now. Members without our userData are skipped.
 * While the group rebalances the coordinator gives no member metadata:
 * `instances` is empty and `state` says why.
 */
export async function describeIndexers(kafka: Kafka, groupId: string, topic: string): Promise<IndexerGroupView> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [{ groups }, partitions] = await Promise.all([admin.describeGroups([groupId]), topicPartitionCount(admin, topic)]);
    const group = groups.find((g) => g.groupId === groupId);
    const instances: IndexerInstance[] = [];
    for (const m of group?.members ?? []) {
      const member = memberOfMetadata(m.memberMetadata);
      if (!member) continue;
      instances.push({ memberId: m.memberId, instance: member.instance, url: member.url, partitions: assignedPartitions(m.memberAssignment, topic) });
    }
    instances.sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0));
    return { instances, partitions, state: group?.state ?? "Dead" };
  } finally {
    await admin.disconnect();
  }
}

function assignedPartitions(assignment: Buffer, topic: string): number[] {
  try {
    const decoded = assignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(assignment) : null;
    return [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b);
  } catch {
    return [];
  }
}

async function topicPartitionCount(admin: ReturnType<Kafka["admin"]>, topic: string): Promise<number> {
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics.find((t) => t.name === topic)?.partitions.length ?? 0;
  } catch (err) {
    // A topic not created yet has no partitions; anything else (the broker away) is the caller's to handle.
    if ((err as { type?: string }).type === "UNKNOWN_TOPIC_OR_PARTITION") return 0;
    throw err;
  }
}
