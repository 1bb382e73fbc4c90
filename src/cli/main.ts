/**
 * sluice's command line: `sluice <command> [options]`. Bad usage prints the reason and the
 * relevant usage text to stderr and exits 2; other failures print `sluice: error: ...` and exit 1.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors';
import { RING_USAGE, ringBuild, ringShow } from './ring';
import { runServer, type ServerKind } from './servers';
import { PROXY_USAGE, runProxy, runStart, START_USAGE } from './proxy';
import { runUser, USER_USAGE } from './user';
import { ACL_USAGE, runAcl } from './acl';
import { EXPIRER_USAGE, runExpirer } from './expirer';
import { POLICY_USAGE, runPolicy } from './policy';
import { exitSoon } from './startup';
import { CLIENT_COMMANDS, CLIENT_USAGE, runClientCommand } from './client';

export const USAGE = `Usage: sluice <command> [options]

Commands:
  start [--data-dir DIR] [--port N] [--config FILE] [--workers N]
        [--auth tempauth|keystone --keystone-url URL]   the whole development cluster
  proxy [--config FILE] [--bind IP] [--port N] [--workers N]
                                                        the proxy, in front of the rings' servers
  ring build <account|container|object|object-N> ...   write a Swift v1 ring file
  ring show FILE                                        describe a ring file
  user add|remove|list ...                              TempAuth's user store (keys as scrypt hashes)
  acl show|grant|revoke ...                             read and change account and container ACLs
  acl explain --user ID --path PATH ...                 ask the proxy why a request would be allowed or denied
  policy list|check|lint ...                            the auth filter's rules: list, evaluate, lint a policy file
  account-server   --bind IP --port N --devices DIR [--swift-dir DIR]
  container-server --bind IP --port N --devices DIR [--swift-dir DIR]
  object-server    --bind IP --port N --devices DIR [--swift-dir DIR]
  object-expirer   --swift-dir DIR [--interval S] [--once]  remove objects whose X-Delete-At passed
  stat, list, upload, download, delete, copy, post, tempurl
                                                        object storage, as python-swiftclient's commands
  help [command]                                        show help
  version                                               print the version

Run "sluice help <command>" for a command's options.`;

const SERVER_COMMANDS: Record<string, ServerKind> = {
  'account-server': 'account',
  'container-server': 'container',
  'object-server': 'object',
};

/** Commands that serve until stopped; a failure must end the process, whatever still holds it. */
const SERVING = new Set(['start', 'proxy', 'object-expirer', ...Object.keys(SERVER_COMMANDS)]);

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * A reader that went away (`sluice ... | head -2`) is not an error: the rest of the output is
 * dropped and the command's exit code stays its own.
 */
let stdoutClosed = false;
function ignoreClosedPipe(stream: NodeJS.WriteStream, onClosed: () => void): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    onClosed();
  });
}
ignoreClosedPipe(process.stdout, () => (stdoutClosed = true));
ignoreClosedPipe(process.stderr, () => undefined);

const stdio: CliIo = {
  out: (line) => {
    if (!stdoutClosed) process.stdout.write(line + '\n');
  },
  err: (line) => process.stderr.write(line + '\n'),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function dispatch(argv: string[], io: CliIo): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('no command given', USAGE);
  if (command === 'help' || command === '--help' || command === '-h') {
    const topic = rest[0];
    if (topic === 'ring') io.out(RING_USAGE);
    else if (topic === 'start') io.out(START_USAGE);
    else if (topic === 'proxy') io.out(PROXY_USAGE);
    else if (topic === 'user') io.out(USER_USAGE);
    else if (topic === 'acl') io.out(`${CLIENT_USAGE.acl}\n\n${ACL_USAGE}`);
    else if (topic && topic in CLIENT_USAGE) io.out(CLIENT_USAGE[topic]!);
    else if (topic === 'object-expirer') io.out(EXPIRER_USAGE);
    else if (topic === 'policy') io.out(POLICY_USAGE);
    else if (topic && topic in SERVER_COMMANDS) return runServer(SERVER_COMMANDS[topic]!, ['--help'], io);
    else io.out(USAGE);
    return 0;
  }
  if (command === 'version' || command === '--version' || command === '-V') {
    io.out(`sluice ${version()}`);
    return 0;
  }
  if (command === 'ring') {
    const [sub, ...args] = rest;
    if (sub === 'build') return ringBuild(args, io.out);
    if (sub === 'show') return ringShow(args, io.out);
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      io.out(RING_USAGE);
      return 0;
    }
    throw new UsageError(sub === undefined ? 'ring needs a subcommand (build or show)' : `unknown ring subcommand ${JSON.stringify(sub)}`, RING_USAGE);
  }
  if (command === 'user') return runUser(rest, io);
  if (command === 'acl' && (rest[0] === 'show' || rest[0] === 'grant' || rest[0] === 'revoke')) return runClientCommand('acl', rest, io);
  if (command === 'acl') return runAcl(rest, io);
  if (CLIENT_COMMANDS.has(command)) return runClientCommand(command, rest, io);
  if (command === 'policy') return runPolicy(rest, io);
  if (command === 'start') return runStart(rest, io);
  if (command === 'proxy') return runProxy(rest, io);
  if (command === 'object-expirer') return runExpirer(rest, io);
  const kind = SERVER_COMMANDS[command];
  if (kind) return runServer(kind, rest, io);
  throw new UsageError(`unknown command ${JSON.stringify(command)}`, USAGE);
}

/** Runs the CLI; resolves to the exit code (servers resolve once they have shut down). */
export async function run(argv: string[], io: CliIo = stdio): Promise<number | undefined> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`sluice: ${err.message}`);
      if (err.usage) io.err('\n' + err.usage);
      return 2;
    }
    // node:util parseArgs reports unknown options and missing values with these codes.
    const code = (err as NodeJS.ErrnoException)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`sluice: ${(err as Error).message}`);
      io.err(`Run "sluice help${argv[0] && !argv[0].startsWith('-') ? ' ' + argv[0] : ''}" for usage.`);
      return 2;
    }
    io.err(`sluice: error: ${(err as Error)?.message ?? String(err)}`);
    if (argv[0] !== undefined && SERVING.has(argv[0])) exitSoon(1);
    return 1;
  }
}
