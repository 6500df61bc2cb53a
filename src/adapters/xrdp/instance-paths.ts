import { join } from 'node:path';

/** Files that belong to one RDP server's xrdp instance, all under one directory. */
export interface InstancePaths {
  /** `<configPath>/servers/<serverId>` */
  dir: string;
  /** The rendered xrdp.ini passed to `xrdp --nodaemon -c`. */
  ini: string;
  /** TLS certificate presented by this instance. */
  cert: string;
  /** TLS private key (mode 0600). */
  key: string;
  /** The instance's xrdp log (`[Logging] LogFile=`). */
  log: string;
}

/** Files of the host's one shared sesman (its log goes to XRDP_LOG_PATH). */
export interface SesmanPaths {
  /** `<configPath>/sesman` */
  dir: string;
  ini: string;
}

/**
 * The directory layout every xrdp adapter agrees on. Server ids are UUIDs from our own store;
 * anything with a path separator or dot segment is refused so a bad id can never escape the tree.
 */
export function instancePaths(configPath: string, serverId: string): InstancePaths {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(serverId)) throw new Error(`invalid server id for a path: ${serverId}`);
  const dir = join(configPath, 'servers', serverId);
  return {
    dir,
    ini: join(dir, 'xrdp.ini'),
    cert: join(dir, 'cert.pem'),
    key: join(dir, 'key.pem'),
    log: join(dir, 'xrdp.log'),
  };
}

export function sesmanPaths(configPath: string): SesmanPaths {
  const dir = join(configPath, 'sesman');
  return { dir, ini: join(dir, 'sesman.ini') };
}
