// The identities each hub knows: devices DPS assigned (with the credential each proved to DPS) and
// devices or modules tests registered on a hub directly. In Azure a DPS assignment creates (or
// updates) the device on its hub; here both paths land in this one registry, so whichever happened
// last wins: re-provisioning after a test revoked a key restores the enrollment's key, as it would.
import type { DeviceCredential } from "./enrollments";

export interface AssignedDevice {
  /** Hub host name, lower case. */
  hub: string;
  deviceId: string;
  registrationId: string;
  credential: DeviceCredential;
}

export interface DeviceIdentity {
  /** Hub host name, lower case. */
  hub: string;
  deviceId: string;
  moduleId?: string;
  credential: DeviceCredential;
  /** Set when DPS created the identity; undefined for one a test registered on the hub. */
  registrationId?: string;
  /** False once disabled: the hub refuses every CONNECT, as Azure does for a disabled device. */
  enabled: boolean;
}

/** `{deviceId}` or `{deviceId}/{moduleId}`: the MQTT client id, and how the hub API names a target. */
export function clientIdOf(deviceId: string, moduleId?: string): string {
  return moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
}

function keyOf(hub: string, clientId: string): string {
  return `${hub.toLowerCase()}/${clientId}`;
}

export class DeviceRegistry {
  private readonly identities = new Map<string, DeviceIdentity>();

  /** DPS: adds or replaces the device; provisioning again overwrites, as re-registration does in Azure. */
  assign(device: AssignedDevice): void {
    this.register({ ...device, enabled: true });
  }

  /** Adds or replaces an identity (a device, or a module when moduleId is set). */
  register(identity: DeviceIdentity): void {
    const stored = { ...identity, hub: identity.hub.toLowerCase() };
    this.identities.set(keyOf(stored.hub, clientIdOf(stored.deviceId, stored.moduleId)), stored);
  }

  remove(hub: string, clientId: string): boolean {
    return this.identities.delete(keyOf(hub, clientId));
  }

  /** The identity behind an MQTT client id on this hub. */
  lookup(hub: string, clientId: string): DeviceIdentity | undefined {
    return this.identities.get(keyOf(hub, clientId));
  }

  /** A device (not a module) that DPS assigned to this hub; undefined for one registered directly. */
  find(hub: string, deviceId: string): AssignedDevice | undefined {
    const identity = this.identities.get(keyOf(hub, deviceId));
    if (!identity || identity.registrationId === undefined) return undefined;
    const { registrationId, credential } = identity;
    return { hub: identity.hub, deviceId, registrationId, credential };
  }
}
