// The JSON shapes DMS sends and receives for the consumer-group API, one schema per wire shape.
// Field names are DMS's own (snake_case). Offsets are int64 and parsed to bigint; see json.ts for
// how they survive JSON.
import { z } from "zod";
import { parseJson } from "./json";

/** An int64 as DMS writes it: a JSON number, or (after parseJson) a decimal string when past 2^53. */
export const WireInt64 = z
  .union([z.number().int(), z.string().regex(/^-?\d+$/), z.bigint()])
  .transform((v) => BigInt(v));

/** Body of both reset operations (engine PUT and legacy management POST). */
export const ResetMessageOffsetBody = z.object({
  topic: z.string().optional(),
  partition: z.number().int(),
  message_offset: WireInt64.optional(),
  timestamp: WireInt64.optional(),
});
export type ResetMessageOffsetBody = z.infer<typeof ResetMessageOffsetBody>;

/** Every failure: `{error_code, error_msg}`. */
export const ErrorBody = z.object({
  error_code: z.string(),
  error_msg: z.string(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The `{error_code, error_msg}` of a failure's body, or undefined when the body is not one (a proxy's page, nothing). */
export function errorBodyOf(text: string): ErrorBody | undefined {
  try {
    const parsed = ErrorBody.safeParse(parseJson(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** ShowGroup: `GET /v2/{project_id}/instances/{instance_id}/groups/{group}`. */
export const ShowGroupResponse = z.object({
  group: z.object({
    group_id: z.string(),
    state: z.string(),
    coordinator_id: z.number().int().optional(),
    assignment_strategy: z.string().optional(),
    createdAt: z.number().optional(),
    group_desc: z.string().nullable().optional(),
    lag: z.number().optional(),
  }),
});
export type ShowGroupResponse = z.infer<typeof ShowGroupResponse>;

export const GroupMember = z.object({
  member_id: z.string(),
  host: z.string(),
  client_id: z.string(),
  assignment: z.array(z.object({ topic: z.string(), partitions: z.array(z.number().int()) })),
});
export type GroupMember = z.infer<typeof GroupMember>;

/** ShowGroups: `GET /v2/{project_id}/instances/{instance_id}/management/groups/{group}` (members and offsets). */
export const ShowGroupsResponse = z.object({
  group: z.object({
    group_id: z.string(),
    state: z.string(),
    coordinator_id: z.number().int().optional(),
    members: z.array(GroupMember),
    group_message_offsets: z.array(
      z.object({
        topic: z.string(),
        partition: z.number().int(),
        message_current_offset: WireInt64,
        message_log_end_offset: WireInt64,
        lag: WireInt64,
      }),
    ),
    assignment_strategy: z.string().optional(),
  }),
});
export type ShowGroupsResponse = z.infer<typeof ShowGroupsResponse>;

/** One row of ListInstanceConsumerGroupMessageOffset. */
export const GroupMessageOffset = z.object({
  topic: z.string(),
  partition: z.number().int(),
  message_current_offset: WireInt64,
  message_log_start_offset: WireInt64,
  message_log_end_offset: WireInt64,
  lag: WireInt64,
  consumer_id: z.string().optional(),
  host: z.string().optional(),
  client_id: z.string().optional(),
});
export type GroupMessageOffset = z.infer<typeof GroupMessageOffset>;

/** `GET /v2/kafka/{project_id}/instances/{instance_id}/groups/{group}/message-offset?topic=&partition=&offset=&limit=`. */
export const GroupMessageOffsetsPage = z.object({
  group_message_offsets: z.array(GroupMessageOffset),
  total: z.number().int(),
});
export type GroupMessageOffsetsPage = z.infer<typeof GroupMessageOffsetsPage>;

/** `GET /v2/{project_id}/instances/{instance_id}/tasks`. */
export const Task = z.object({
  id: z.string(),
  name: z.string(),
  user_name: z.string().optional(),
  user_id: z.string().optional(),
  params: z.string().optional(),
  status: z.string(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
});
export type Task = z.infer<typeof Task>;

export const TasksResponse = z.object({
  // DMS documents and sends task_count as a string ("4"); a number is accepted too.
  task_count: z.union([z.number().int(), z.string().regex(/^\d+$/)]).transform(Number),
  tasks: z.array(Task),
});
export type TasksResponse = z.infer<typeof TasksResponse>;

/** The task DMS creates for an all-topics reset. */
export const RESET_TASK_NAME = "kafkaResetConsumerOffset";

/**
 * ShowInstanceTopicDetail: `GET /v2/{project_id}/instances/{instance_id}/management/topics/{topic}`.
 * lso: log start offset; hw: high watermark (where a reset "to latest" lands); leo: log end offset.
 */
export const ShowInstanceTopicDetailResponse = z.object({
  topic: z.string(),
  partitions: z.array(
    z.object({
      partition: z.number().int(),
      leader: z.number().int().optional(),
      leo: WireInt64,
      hw: WireInt64,
      lso: WireInt64,
      last_update_timestamp: WireInt64.optional(),
      replicas: z
        .array(
          z.object({
            broker: z.number().int().optional(),
            leader: z.boolean().optional(),
            in_sync: z.boolean().optional(),
            size: z.number().optional(),
            lag: z.number().optional(),
          }),
        )
        .optional(),
    }),
  ),
  group_subscribed: z.array(z.string()).optional(),
});
export type ShowInstanceTopicDetailResponse = z.infer<typeof ShowInstanceTopicDetailResponse>;

/**
 * ShowMessages: `GET /v2/{project_id}/instances/{instance_id}/management/topics/{topic}/messages
 * ?start_time=&end_time=&limit=&offset=&partition=` (times in epoch milliseconds).
 */
export const ShowMessagesResponse = z.object({
  messages: z.array(
    z.object({
      topic: z.string().optional(),
      partition: z.number().int(),
      message_offset: WireInt64,
      size: z.number().optional(),
      timestamp: WireInt64.optional(),
    }),
  ),
  messages_count: z.number().int().optional(),
  offsets_count: z.number().int().optional(),
  offset: z.number().int().optional(),
});
export type ShowMessagesResponse = z.infer<typeof ShowMessagesResponse>;
