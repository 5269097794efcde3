// Auth0's JavaScript SDK (@auth0/auth0-auth-js) walks the MFA flow against whatever tenant the
// environment names, configured with nothing but the domain, the client and the certificate
// (NODE_EXTRA_CA_CERTS): password grant -> mfa_required -> associate otp -> mfa-otp grant -> list.
// Prints one JSON line of what it saw (no secrets) for tests/test_sdk_double.py to check.
import { createHmac } from 'node:crypto';
import { AuthClient, isMfaRequiredError } from '@auth0/auth0-auth-js';

const env = (name) => {
  if (!process.env[name]) throw new Error(`set ${name}`);
  return process.env[name];
};

// RFC 6238 with the authenticator app's defaults (SHA-1, 6 digits, 30 s): the user's phone.
function totp(secret, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1e6).padStart(6, '0');
}

const domain = env('AUTH0_DOMAIN');
const auth = new AuthClient({ domain, clientId: env('AUTH0_CLIENT_ID'), clientSecret: env('AUTH0_CLIENT_SECRET') });
const mfaAudience = `https://${domain}/mfa/`;
const seen = {};

let mfaToken;
try {
  await auth.getTokenByPassword({
    username: env('AUTH0_USERNAME'), password: env('AUTH0_PASSWORD'),
    audience: mfaAudience, scope: 'openid enroll read:authenticators remove:authenticators',
  });
  seen.password_grant = 'tokens without MFA';
} catch (error) {
  if (!isMfaRequiredError(error)) throw error;
  seen.password_grant = error.cause.error;
  seen.mfa_requirements = error.cause.mfa_requirements ?? null;
  mfaToken = error.cause.mfa_token;
}

const enrolled = await auth.mfa.enrollAuthenticator({ authenticatorTypes: ['otp'], mfaToken });
seen.enrolled = { authenticatorType: enrolled.authenticatorType, recoveryCodes: enrolled.recoveryCodes?.length ?? 0,
                  barcodeScheme: new URL(enrolled.barcodeUri).protocol };

const tokens = await auth.mfa.verify({ factorType: 'otp', mfaToken, otp: totp(enrolled.secret) });
seen.token_type = tokens.tokenType;
seen.lifetime = Math.round(tokens.expiresAt - Date.now() / 1000);   // seconds the access token lives
seen.id_token_issuer = tokens.claims?.iss ?? null;                  // checked by the SDK against https://DOMAIN/
seen.has_access_token = Boolean(tokens.accessToken);

const listed = await auth.mfa.listAuthenticators({ mfaToken: tokens.accessToken });
seen.authenticators = listed.map((a) => ({ type: a.authenticatorType, active: a.active }));

console.log(JSON.stringify(seen));
