// The devices DPS has assigned to hubs, with the credential each proved. In Azure the assignment
// creates the device on its hub; here the hub side (issue 5) will look devices up in this registry
// to check their SAS tokens or certificates.
import type { DeviceCredential } from "./enrollments";

export interface AssignedDevice {
  /** Hub host name, lower case. */
  hub: string;
  deviceId: string;
  registrationId: string;
  credential: DeviceCredential;
}

export class DeviceRegistry {
  private readonly devices = new Map<string, AssignedDevice>();

  /** Adds or replaces the device: provisioning again overwrites, as re-registration does in Azure. */
  assign(device: AssignedDevice): void {
    this.devices.set(`${device.hub.toLowerCase()}/${device.deviceId}`, { ...device, hub: device.hub.toLowerCase() });
  }

  find(hub: string, deviceId: string): AssignedDevice | undefined {
    return this.devices.get(`${hub.toLowerCase()}/${deviceId}`);
  }
}
