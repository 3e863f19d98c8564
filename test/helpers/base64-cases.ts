// Base64 inputs every strict decoder must refuse, shared by the core's decoder and the Espruino
// build's native-backed one, so both are held to one table.
export const NON_CANONICAL_BASE64 = [
    "Zg", // unpadded
    "Zg=", // bad length
    "Zm9vY", // bad length
    "Zm9v Yg==", // whitespace
    "Zm9v\nYmFy", // newline (length 9)
    "Zm9\nYmFy", // newline (length 8)
    "Zm9-", // URL-safe alphabet is not this alphabet
    "Zm9_",
    "Zm9é",
    "====",
    "Z===",
    "=Zg=",
    "Zg=a",
    "Z=g=",
    "Zm=v",
    "Zh==", // non-zero bits under "==" (Zg== is canonical)
    "Zm9=", // non-zero bits under "=" (Zm8= is canonical)
    "Zg==Zg==", // padding in the middle
];
