// A throw-away certificate authority, minted in memory each time the simulator starts, so no key is
// ever committed and nothing but node:crypto is needed. Keys are EC P-256 and every certificate is
// X.509 v3 signed with ecdsa-with-SHA256 (RFC 5280, RFC 5758), written as DER by ./der.ts.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import {
  bitString,
  booleanTrue,
  explicit,
  implicitPrimitive,
  objectIdentifier,
  octetString,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from "./der";

const OID_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
const OID_COMMON_NAME = "2.5.4.3";
const OID_ORGANIZATION = "2.5.4.10";
const OID_SUBJECT_KEY_IDENTIFIER = "2.5.29.14";
const OID_KEY_USAGE = "2.5.29.15";
const OID_SUBJECT_ALT_NAME = "2.5.29.17";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_AUTHORITY_KEY_IDENTIFIER = "2.5.29.35";
const OID_EXTENDED_KEY_USAGE = "2.5.29.37";
const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

// keyUsage bits are numbered from the most significant bit of the first byte (RFC 5280 4.2.1.3);
// DER drops trailing zero bits, hence the unused-bit counts next to each mask.
const KEY_USAGE_DIGITAL_SIGNATURE = { mask: 0x80, unusedBits: 7 };
const KEY_USAGE_CERT_SIGN_AND_CRL_SIGN = { mask: 0x06, unusedBits: 1 };

const ORGANIZATION = "azure-iot-mqtt-lite simulator";
const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_VALID_YEARS = 5;

export interface CertificateAuthority {
  /** The CA certificate, PEM: what a client passes as `ca` to trust the simulator. */
  certificatePem: string;
  commonName: string;
  /** Kept as a KeyObject (not PEM) because only this module signs with it. */
  privateKey: KeyObject;
  subjectKeyIdentifier: Buffer;
  validYears: number;
}

export interface IssuedCertificate {
  certificatePem: string;
  /** PKCS#8 PEM, unencrypted: it only ever protects loopback test traffic. */
  keyPem: string;
}

export interface ServerCertificateOptions {
  dnsNames: string[];
  /** IPv4 dotted quads, e.g. "127.0.0.1". */
  ipAddresses?: string[];
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function distinguishedName(commonName: string): Buffer {
  const attribute = (oid: string, value: string) => set(sequence(objectIdentifier(oid), utf8String(value)));
  return sequence(attribute(OID_ORGANIZATION, ORGANIZATION), attribute(OID_COMMON_NAME, commonName));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(objectIdentifier(oid), booleanTrue(), octetString(value))
    : sequence(objectIdentifier(oid), octetString(value));
}

function keyUsage(usage: { mask: number; unusedBits: number }): Buffer {
  return extension(OID_KEY_USAGE, true, bitString(Buffer.from([usage.mask]), usage.unusedBits));
}

/** RFC 5280 4.2.1.2 allows any unique value; a truncated SHA-256 of the SubjectPublicKeyInfo is one. */
function keyIdentifier(subjectPublicKeyInfo: Buffer): Buffer {
  return createHash("sha256").update(subjectPublicKeyInfo).digest().subarray(0, 20);
}

function ipv4Bytes(address: string): Buffer {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) {
    throw new Error(`not an IPv4 address: ${address}`);
  }
  return Buffer.from(parts);
}

interface CertificateFields {
  subjectCommonName: string;
  issuerCommonName: string;
  subjectPublicKeyInfo: Buffer;
  extensions: Buffer[];
  signingKey: KeyObject;
  validYears: number;
}

/** Builds TBSCertificate (RFC 5280 4.1), signs it, and wraps it with the algorithm and signature. */
function signCertificate(fields: CertificateFields): Buffer {
  const signatureAlgorithm = sequence(objectIdentifier(OID_ECDSA_WITH_SHA256));
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x01; // positive and never zero, as 4.1.2.2 requires
  const now = Date.now();
  // Back-dated a day so a client whose clock runs a little behind still accepts it.
  const notBefore = new Date(now - DAY_MS);
  const notAfter = new Date(now + fields.validYears * 365 * DAY_MS);
  const tbs = sequence(
    explicit(0, smallInteger(2)), // version v3
    unsignedInteger(serial),
    signatureAlgorithm,
    distinguishedName(fields.issuerCommonName),
    sequence(time(notBefore), time(notAfter)),
    distinguishedName(fields.subjectCommonName),
    fields.subjectPublicKeyInfo,
    explicit(3, sequence(...fields.extensions)),
  );
  // For EC keys node:crypto returns the DER ECDSA-Sig-Value that X.509 expects.
  const signature = sign("sha256", tbs, fields.signingKey);
  return sequence(tbs, signatureAlgorithm, bitString(signature));
}

function newKeyPair(): { privateKey: KeyObject; subjectPublicKeyInfo: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return { privateKey, subjectPublicKeyInfo: publicKey.export({ type: "spki", format: "der" }) };
}

/** A self-signed root: basicConstraints CA:true (critical), keyUsage keyCertSign + cRLSign. */
export function createCertificateAuthority(
  commonName = "azure-iot-mqtt-lite simulator root CA",
  validYears = DEFAULT_VALID_YEARS,
): CertificateAuthority {
  const { privateKey, subjectPublicKeyInfo } = newKeyPair();
  const subjectKeyIdentifier = keyIdentifier(subjectPublicKeyInfo);
  const der = signCertificate({
    subjectCommonName: commonName,
    issuerCommonName: commonName,
    subjectPublicKeyInfo,
    signingKey: privateKey,
    validYears,
    extensions: [
      extension(OID_BASIC_CONSTRAINTS, true, sequence(booleanTrue())),
      keyUsage(KEY_USAGE_CERT_SIGN_AND_CRL_SIGN),
      extension(OID_SUBJECT_KEY_IDENTIFIER, false, octetString(subjectKeyIdentifier)),
    ],
  });
  return { certificatePem: toPem("CERTIFICATE", der), commonName, privateKey, subjectKeyIdentifier, validYears };
}

function issueLeaf(
  ca: CertificateAuthority,
  commonName: string,
  extendedKeyUsageOid: string,
  extraExtensions: Buffer[],
): IssuedCertificate {
  const { privateKey, subjectPublicKeyInfo } = newKeyPair();
  const der = signCertificate({
    subjectCommonName: commonName,
    issuerCommonName: ca.commonName,
    subjectPublicKeyInfo,
    signingKey: ca.privateKey,
    validYears: ca.validYears,
    extensions: [
      extension(OID_BASIC_CONSTRAINTS, true, sequence()), // CA:false
      keyUsage(KEY_USAGE_DIGITAL_SIGNATURE),
      extension(OID_EXTENDED_KEY_USAGE, false, sequence(objectIdentifier(extendedKeyUsageOid))),
      extension(OID_SUBJECT_KEY_IDENTIFIER, false, octetString(keyIdentifier(subjectPublicKeyInfo))),
      // keyIdentifier is [0] IMPLICIT OCTET STRING inside AuthorityKeyIdentifier (RFC 5280 4.2.1.1).
      extension(OID_AUTHORITY_KEY_IDENTIFIER, false, sequence(implicitPrimitive(0, ca.subjectKeyIdentifier))),
      ...extraExtensions,
    ],
  });
  return {
    certificatePem: toPem("CERTIFICATE", der),
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  };
}

/** A TLS server certificate: subjectAltName carries every host name (dNSName [2]) and IP ([7]). */
export function issueServerCertificate(ca: CertificateAuthority, options: ServerCertificateOptions): IssuedCertificate {
  const names = [
    ...options.dnsNames.map((name) => implicitPrimitive(2, Buffer.from(name, "ascii"))),
    ...(options.ipAddresses ?? []).map((address) => implicitPrimitive(7, ipv4Bytes(address))),
  ];
  const commonName = options.dnsNames[0] ?? "simulator";
  return issueLeaf(ca, commonName, OID_SERVER_AUTH, [extension(OID_SUBJECT_ALT_NAME, false, sequence(...names))]);
}

/** A TLS client certificate for X.509 attestation: DPS takes the registration id from the subject CN. */
export function issueClientCertificate(ca: CertificateAuthority, commonName: string): IssuedCertificate {
  return issueLeaf(ca, commonName, OID_CLIENT_AUTH, []);
}
