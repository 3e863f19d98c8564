// HMAC-SHA256 of a 100-byte message (about the size of a SAS string-to-sign), the core's own
// implementation against node:crypto. For information only: the core's version is the fallback for
// platforms with no native crypto; Node supplies node:crypto through the CryptoProvider seam.
import { createHmac } from "node:crypto";
import { hmacSha256 } from "../core/crypto";
import { compareThroughput } from "./harness";

const key = new Uint8Array(32);
const message = new Uint8Array(100);
for (let i = 0; i < key.length; i++) key[i] = (i * 97 + 13) & 0xff;
for (let i = 0; i < message.length; i++) message[i] = (i * 31 + 7) & 0xff;

let sink = 0;
compareThroughput(
  "hmac-sha256-100B",
  "ops/s",
  () => {
    sink += hmacSha256(key, message)[0];
  },
  "node:crypto createHmac",
  () => {
    sink += createHmac("sha256", key).update(message).digest()[0];
  },
);
if (sink < 0) throw new Error("unreachable: keeps results alive");
