/**
 * Runs the proxy on node:http through @hono/node-server. The raw request (its undecoded
 * target and ordered headers) reaches the pipeline as the `incoming` binding.
 */
import { createAdaptorServer } from '@hono/node-server';
import { ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildProxyApp } from './app';
import { loadProxyConfig, intOption, type ProxyConfig } from './config';
import { createProxyState, type ProxyState, type Rings } from './state';
import type { SwiftConf } from '../common/swift-conf';
import type { SharedCache } from './info-cache';

/**
 * Node 20's ServerResponse.flushHeaders() sends the header block as UTF-8, so header values
 * holding raw UTF-8 bytes (latin-1 strings, e.g. `X-Object-Meta-*: café`) go out encoded twice.
 * @hono/node-server flushes headers before a streamed body whose first chunk is not ready yet,
 * which is how object GETs are sent. Flushing with an empty Buffer write keeps the header block
 * latin-1, byte for byte.
 */
export class Latin1HeaderResponse extends ServerResponse {
  override flushHeaders(): void {
    this.write(Buffer.alloc(0));
  }
}

export interface ProxyServerOptions {
  /** Parsed configuration, or a path to proxy-server.conf; neither: built-in defaults. */
  config?: ProxyConfig | string;
  host?: string;
  port?: number;
  swiftDir?: string;
  swiftConf?: SwiftConf;
  rings?: Rings;
  cache?: SharedCache;
  logger?: Logger;
  accessLogger?: Logger;
}

export interface RunningProxy {
  url: string;
  host: string;
  port: number;
  server: Server;
  state: ProxyState;
  close(): Promise<void>;
}

export async function startProxyServer(opts: ProxyServerOptions = {}): Promise<RunningProxy> {
  const config = typeof opts.config === 'object' ? opts.config : loadProxyConfig(opts.config);
  const state = createProxyState({ app: config.app, swiftDir: opts.swiftDir, swiftConf: opts.swiftConf, rings: opts.rings, cache: opts.cache });
  const app = buildProxyApp(config, state, { logger: opts.logger, accessLogger: opts.accessLogger });
  const server = createAdaptorServer({
    fetch: app.fetch,
    serverOptions: { maxHeaderSize: 256 * 1024, keepAliveTimeout: 30_000, requestTimeout: 0, ServerResponse: Latin1HeaderResponse as typeof ServerResponse },
  }) as Server;
  const host = opts.host ?? config.defaults.bind_ip ?? '127.0.0.1';
  const port = opts.port ?? intOption(config.defaults, 'bind_port', 8080);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    host,
    port: actual,
    server,
    state,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await state.close();
    },
  };
}
