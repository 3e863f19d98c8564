// Runs a check with the core's own code and again with Node's native fast paths installed
// (core/native.ts), so both must give identical results.
import { installNative } from "../../core/native";
import { nodeNativePaths } from "../../platform-node/native-paths";

export function inEachPathMode(check: (mode: string) => void): void {
  try {
    installNative({});
    check("pure core");
    installNative(nodeNativePaths);
    check("node native paths");
  } finally {
    installNative({});
  }
}
