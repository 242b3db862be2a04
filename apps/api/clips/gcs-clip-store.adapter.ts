// ClipStore over Cloud Storage. Signed URLs are V4, signed with the credentials of the Storage
// client: the service account in production. Against the GCS emulator (a custom endpoint) there
// are none, so a key pair generated at start-up signs them: fake-gcs-server ignores signatures but
// serves the object at the signed URL's path (Range requests included), which is what a browser
// playing the clip in a <video> element needs locally.
import { generateKeyPairSync } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { BackendUnavailable } from '../common/errors';
import { ClipStore, type SignedUrl } from './clips.port';

export class GcsClipStore extends ClipStore {
  private readonly signer: Storage;

  constructor(private readonly storage: Storage, private readonly bucket: string) {
    super();
    this.signer = storage.customEndpoint ? localSigner(storage) : storage;
  }

  async sign(object: string, ttlSeconds: number): Promise<SignedUrl> {
    const expires = Date.now() + ttlSeconds * 1000;
    try {
      const [url] = await this.signer.bucket(this.bucket).file(object).getSignedUrl({ version: 'v4', action: 'read', expires });
      return { url, expiresAt: new Date(expires).toISOString() };
    } catch (e) {
      throw new BackendUnavailable('storage', `signing a URL for ${object}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async stat(object: string): Promise<{ sizeBytes: number; md5: string; metadata: Record<string, string> } | null> {
    try {
      const [m] = await this.storage.bucket(this.bucket).file(object).getMetadata();
      return { sizeBytes: Number(m.size ?? 0), md5: String(m.md5Hash ?? ''), metadata: (m.metadata ?? {}) as Record<string, string> };
    } catch (e) {
      if ((e as { code?: number }).code === 404) return null;
      throw new BackendUnavailable('storage', e instanceof Error ? e.message : String(e));
    }
  }
}

function localSigner(storage: Storage): Storage {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return new Storage({
    projectId: storage.projectId,
    apiEndpoint: storage.apiEndpoint,
    credentials: { client_email: 'tapedeck-local-signer@tapedeck-local.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
  });
}
