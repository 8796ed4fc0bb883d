/** Shapes of LXD's REST API that Hangar reads (LXD 5.0 and later). */

export type ImageType = 'container' | 'virtual-machine';

export interface LxdImageAlias {
  name: string;
  description: string;
}

export interface LxdImageSource {
  alias: string;
  certificate: string;
  protocol: string;
  server: string;
  image_type?: string;
}

export interface LxdImage {
  fingerprint: string;
  filename: string;
  size: number;
  architecture: string;
  public: boolean;
  auto_update: boolean;
  cached: boolean;
  type: ImageType;
  created_at: string;
  uploaded_at: string;
  expires_at: string;
  last_used_at: string;
  properties: Record<string, string>;
  aliases: LxdImageAlias[];
  /** null when an edit left it without profiles. */
  profiles: string[] | null;
  update_source?: LxdImageSource;
  project?: string;
}

export interface LxdServerInfo {
  auth: 'trusted' | 'untrusted';
  public: boolean;
  api_extensions: string[];
  environment?: {
    server?: string;
    server_version?: string;
    server_name?: string;
    architectures?: string[];
    /** Where the server listens on the network (core.https_address). */
    addresses?: string[];
    /** PEM of the server certificate. */
    certificate?: string;
  };
}

export type LxdOperationStatusCode = 100 | 103 | 104 | 105 | 200 | 400 | 401;

export interface LxdOperation {
  id: string;
  class: 'task' | 'websocket' | 'token';
  description: string;
  created_at: string;
  updated_at: string;
  status: string;
  status_code: LxdOperationStatusCode;
  resources: Record<string, string[]> | null;
  metadata: Record<string, unknown> | null;
  may_cancel: boolean;
  err: string;
}

export interface LxdEvent {
  type: 'operation' | 'lifecycle' | 'logging';
  timestamp: string;
  project?: string;
  metadata: Record<string, unknown>;
}
