// What dms-local's HTTP layer asks of the Kafka side, and nothing more. Two implementations:
// MemoryWorld (a seed held in memory) and, for `dms-local --kafka`, one over a real broker.
// Everything is async and keyed by instance id so either can answer; offsets and timestamps are
// int64 (bigint) end to end.
import type { GroupState } from "./seed";

export type { GroupState };

export interface PartitionOffsets {
  partition: number;
  /** The earliest retained offset. */
  logStartOffset: bigint;
  /** The offset the next record will get (the high watermark). */
  logEndOffset: bigint;
}

/** One record of a partition's log, as ShowMessages lists it (no key, no value). */
export interface LogRecord {
  offset: bigint;
  /** Epoch milliseconds. */
  timestamp: bigint;
  /** Bytes of key and value. */
  size: number;
}

export interface ReplicaState {
  broker: number;
  leader: boolean;
  inSync: boolean;
  /** Records behind the high watermark, when known. */
  lag?: number;
}

/** A partition as ShowInstanceTopicDetail shows it. */
export interface PartitionDetail extends PartitionOffsets {
  /** Broker id of the partition's leader. */
  leader: number;
  replicas: ReplicaState[];
  /** Epoch ms of the newest record ever written, when the world knows it without reading the log. */
  lastUpdateTimestamp?: bigint;
}

export interface TopicDetail {
  partitions: PartitionDetail[];
  /** Groups with a committed offset on the topic or a member assigned to it, sorted. */
  subscribedGroups: string[];
}

export interface MemberAssignment {
  topic: string;
  partitions: number[];
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  assignment: MemberAssignment[];
}

export interface GroupDescription {
  group: string;
  /** DMS spelling of Kafka's group states (upper snake case). */
  state: GroupState;
  members: GroupMember[];
  /** `""` when the group has no members. */
  assignmentStrategy: string;
  coordinatorId: number;
  /** Epoch milliseconds, when known. */
  createdAt?: number;
  description?: string;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

/** DMS background task statuses (ListBackgroundTasks). */
export type TaskStatus = "CREATED" | "EXECUTING" | "SUCCESS" | "FAILED";

export interface TaskRecord {
  id: string;
  name: string;
  userName: string;
  userId: string;
  /** JSON text, as DMS reports a task's parameters. */
  params: string;
  status: TaskStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface World {
  hasInstance(instanceId: string): Promise<boolean>;
  /** The topic's partitions in partition order, or undefined when the topic does not exist. */
  partitions(instanceId: string, topic: string): Promise<PartitionOffsets[] | undefined>;
  /**
   * The first offset whose record timestamp is >= `timestamp` (epoch ms); the log start offset when
   * every retained record is that recent, the log end offset when none is (Kafka's ListOffsets).
   */
  offsetForTimestamp(instanceId: string, topic: string, partition: number, timestamp: bigint): Promise<bigint>;
  /**
   * Up to `limit` records of the partition at offsets >= `fromOffset` (the log start when lower), in
   * offset order, below the log end. Offsets may skip (compaction, transaction markers on a broker).
   */
  messages(instanceId: string, topic: string, partition: number, fromOffset: bigint, limit: number): Promise<LogRecord[]>;
  /** Leaders, replicas and subscribed groups of the topic, or undefined when the topic does not exist. */
  topicDetail(instanceId: string, topic: string): Promise<TopicDetail | undefined>;
  /** Undefined when the instance does not know the group (Kafka: DEAD with no committed offsets). */
  describeGroup(instanceId: string, group: string): Promise<GroupDescription | undefined>;
  /** Every committed offset of the group, sorted by topic then partition. */
  committedOffsets(instanceId: string, group: string): Promise<CommittedOffset[]>;
  /** Commit these offsets for the group (the group must have no live members). */
  commitOffsets(instanceId: string, group: string, offsets: readonly CommittedOffset[]): Promise<void>;
  /** The instance's background tasks, newest first. */
  tasks(instanceId: string): Promise<TaskRecord[]>;
  /** Insert the task, or replace the one with the same id. */
  saveTask(instanceId: string, task: TaskRecord): Promise<void>;
  /**
   * Make the group's consumers leave as if their session timed out: state EMPTY, no members.
   * Absent where the world cannot do that (a real broker's consumers are real processes).
   */
  stopConsumers?(instanceId: string, group: string): Promise<void>;
  /**
   * Stop the group's consumers (as stopConsumers) right after its state has been shown `reads` more times
   * (see stateShown): an event a test controls, where a timer would race a loaded machine. Absent where
   * stopConsumers is.
   */
  stopConsumersAfterReads?(instanceId: string, group: string, reads: number): Promise<void>;
  /** An API answer has just shown the group's state (ShowGroup, ShowGroups): counts toward stopConsumersAfterReads. */
  stateShown?(instanceId: string, group: string): Promise<void>;
  /** Release timers and connections. */
  close(): Promise<void>;
}
