// What an OCI archive (the `oci-archive:` transport's tar: oci-layout, index.json, blobs/) says
// about the one image it holds, read with tar without unpacking it.
import { execFileSync } from 'node:child_process';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

interface OciIndex {
  readonly manifests?: readonly {
    readonly digest?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  }[];
}

/** The `name:tag` and manifest digest an archive's index.json names; errors name the archive. */
export function parseOciIndex(indexJson: string, archive: string): { ref: string; digest: string } {
  let index: OciIndex;
  try {
    index = JSON.parse(indexJson) as OciIndex;
  } catch (e) {
    throw new Error(`${archive}: index.json is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const manifests = index.manifests ?? [];
  if (manifests.length !== 1)
    throw new Error(`${archive}: index.json names ${manifests.length} manifests, expected exactly 1`);
  const ref = manifests[0]!.annotations?.[REF_NAME_ANNOTATION];
  if (!ref) throw new Error(`${archive}: index.json's manifest has no ${REF_NAME_ANNOTATION} annotation`);
  const digest = manifests[0]!.digest;
  if (!digest) throw new Error(`${archive}: index.json's manifest has no digest`);
  return { ref, digest };
}

/** Reads `archive`'s index.json (see parseOciIndex). */
export function readOciArchive(archive: string): { ref: string; digest: string } {
  let text: string;
  try {
    text = execFileSync('tar', ['-xOf', archive, 'index.json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr?.trim();
    throw new Error(`${archive}: cannot read index.json: ${stderr || (e as Error).message}`);
  }
  return parseOciIndex(text, archive);
}
