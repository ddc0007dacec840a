// JSON shapes of the HTTP API v1, as pinned by docs/api.md.

export const kTerminalStatuses = [
  'completed',
  'failed',
  'compile_error',
  'timed_out',
  'memory_exceeded',
  'output_exceeded',
  'cancelled',
  'error',
] as const;

export type TerminalStatus = (typeof kTerminalStatuses)[number];
export type ExecutionStatus = 'queued' | 'running' | TerminalStatus;

export function isTerminal(status: string | null | undefined): status is TerminalStatus {
  return status != null && (kTerminalStatuses as readonly string[]).includes(status);
}

export interface Limits {
  memory_bytes: number;
  cpu_millicores: number;
  timeout_ms: number;
  pids: number;
  output_bytes: number;
  tmpfs_bytes?: number;
  file_size_bytes?: number;
  open_files?: number;
}

export interface ResourceUsage {
  wall_time_ms: number;
  cpu_time_ms: number;
  peak_memory_bytes: number;
  /** Compiled runtimes: the build step's wall time, apart from the run's. */
  compile_time_ms?: number;
}

export interface Execution {
  execution_id: string;
  status: ExecutionStatus;
  lang: string;
  lang_version: string;
  exit_code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  message: string | null;
  resource_usage: ResourceUsage | null;
  limits: Limits | null;
  script?: string;
  stdin?: string;
  owner_id: number | null;
  /** The owner shared it: anyone with the id can read it. */
  public?: boolean;
  attempts?: number;
  retry_of?: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface ExecutionListItem extends Omit<Execution, 'stdout' | 'stderr' | 'script' | 'stdin'> {
  stdout_preview?: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Accepted {
  execution_id: string;
  status: ExecutionStatus;
}

export interface Runtime {
  lang: string;
  version: string;
  display_name: string;
  implementation: string;
  file_extension: string;
  editor_mode: string;
  available: boolean;
  reason: string;
  has_compile: boolean;
  /** Where its files come from: "host" (the server's /usr) or "debian <suite>". */
  source?: string;
}

export interface LimitsInfo {
  defaults: Limits;
  maximum: Limits;
  runtimes: Runtime[];
}

export interface ExampleScript {
  lang: string;
  version: string;
  script: string;
  description: string;
}

export interface User {
  id: number;
  username: string;
  email: string;
  role: 'user' | 'admin';
  created_at: string;
}

export interface LoginResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  csrf_token: string;
  user: User;
}

export interface SavedScript {
  id: string;
  name: string;
  lang: string;
  lang_version: string;
  script: string;
  created_at: string;
  updated_at: string;
}

export interface SavedScriptInput {
  name: string;
  lang: string;
  lang_version: string;
  script: string;
}

export interface AdminStats {
  executions_by_status: Record<string, number>;
  users: number;
  queue_depth: number;
  running: number;
  workers: number;
}

export interface ExecuteRequest {
  script: string;
  lang: string;
  lang_version: string;
  stdin?: string;
  limits?: Partial<Pick<Limits, 'memory_bytes' | 'cpu_millicores' | 'timeout_ms' | 'pids' | 'output_bytes'>>;
}

/** An RFC 9457 problem document as the server sends it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  request_id?: string;
  field?: string;
}
