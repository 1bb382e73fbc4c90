/** The object-storage commands (python-swiftclient's shapes) on sluice/client. */
import type { CliIo } from '../main';
import { ACL_CHANGE_USAGE, runAclChange } from './acl';
import { CREDENTIAL_USAGE } from './credentials';
import { COPY_USAGE, runCopy } from './copy';
import { DELETE_USAGE, runDelete } from './delete';
import { DOWNLOAD_USAGE, runDownload } from './download';
import { LIST_USAGE, runList } from './list';
import { POST_USAGE, runPost } from './post';
import { runStat, STAT_USAGE } from './stat';
import { runTempurl, TEMPURL_USAGE } from './tempurl';
import { runUpload, UPLOAD_USAGE } from './upload';

const RUN: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  stat: runStat,
  list: runList,
  upload: runUpload,
  download: runDownload,
  delete: runDelete,
  copy: runCopy,
  post: runPost,
  tempurl: runTempurl,
};

export const CLIENT_COMMANDS: ReadonlySet<string> = new Set(Object.keys(RUN));

export const CLIENT_USAGE: Record<string, string> = {
  stat: STAT_USAGE,
  list: LIST_USAGE,
  upload: UPLOAD_USAGE,
  download: DOWNLOAD_USAGE,
  delete: DELETE_USAGE,
  copy: COPY_USAGE,
  post: POST_USAGE,
  tempurl: TEMPURL_USAGE,
  acl: ACL_CHANGE_USAGE,
};
for (const name of Object.keys(CLIENT_USAGE)) if (name !== 'tempurl') CLIENT_USAGE[name] += `\n\n${CREDENTIAL_USAGE}`;

/** `acl` arrives with its subcommand (show, grant, revoke) first. */
export function runClientCommand(command: string, argv: string[], io: CliIo): Promise<number> {
  if (command === 'acl') return runAclChange(argv[0] as 'show' | 'grant' | 'revoke', argv.slice(1), io);
  return RUN[command]!(argv, io);
}
