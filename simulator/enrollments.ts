// DPS enrollments and the attestation check: which enrollment a connecting device belongs to, and
// the key or certificate it proved that with (the hub side will check the same credential later).
// As in Azure, an individual enrollment for the registration id wins over any group.
import type { DpsBehaviour } from "./dps-faults";
import { deriveDeviceKey, sasRefusal, type SasToken } from "./sas";

export type Attestation =
  | { type: "symmetricKey"; primaryKey: string; secondaryKey?: string }
  /** Any client certificate that chains to the simulator's CA and whose subject CN is the registration id. */
  | { type: "x509" };

export interface CustomAllocationRequest {
  registrationId: string;
  /** The request's `payload`, as parsed JSON; undefined when the device sent none. */
  payload: unknown;
}

/** What a custom allocation returns: a payload for the device, and optionally a different hub or device id. */
export interface CustomAllocationResult {
  payload?: unknown;
  assignedHub?: string;
  deviceId?: string;
}

/** Runs like an Azure custom-allocation webhook; throwing makes the registration `failed` (errorCode 400209). */
export type CustomAllocation = (request: CustomAllocationRequest) => CustomAllocationResult | undefined;

interface EnrollmentSettings {
  attestation: Attestation;
  /** Host name of the hub to assign; default: the simulator's first hub. */
  assignedHub?: string;
  customAllocation?: CustomAllocation;
  /** Overrides the simulator-wide DPS behaviour, field by field. */
  behaviour?: DpsBehaviour;
}

export interface IndividualEnrollment extends EnrollmentSettings {
  registrationId: string;
  /** Default: the registration id. */
  deviceId?: string;
}

export interface GroupEnrollment extends EnrollmentSettings {
  enrollmentGroupId: string;
}

/** The credential a device proved, kept so the hub can accept the same device later. */
export type DeviceCredential = { type: "symmetricKey"; keys: string[] } | { type: "x509"; commonName: string };

export interface EnrollmentMatch {
  individual?: IndividualEnrollment;
  group?: GroupEnrollment;
  settings: EnrollmentSettings;
  credential: DeviceCredential;
}

export interface PresentedCredentials {
  idScope: string;
  registrationId: string;
  sas?: SasToken;
  certificate?: { commonName: string | undefined; trusted: boolean };
  nowSeconds: number;
}

function symmetricKeys(attestation: Attestation): string[] {
  if (attestation.type !== "symmetricKey") return [];
  return attestation.secondaryKey ? [attestation.primaryKey, attestation.secondaryKey] : [attestation.primaryKey];
}

export class EnrollmentBook {
  private readonly individuals = new Map<string, IndividualEnrollment>();
  private readonly groups = new Map<string, GroupEnrollment>();

  addIndividual(enrollment: IndividualEnrollment): void {
    this.individuals.set(enrollment.registrationId, enrollment);
  }

  addGroup(enrollment: GroupEnrollment): void {
    this.groups.set(enrollment.enrollmentGroupId, enrollment);
  }

  /** The matching enrollment, or a refusal reason for the record (never a key or signature). */
  authenticate(presented: PresentedCredentials): EnrollmentMatch | { refusal: string } {
    if (presented.sas) return this.authenticateSas(presented, presented.sas);
    if (presented.certificate) return this.authenticateCertificate(presented, presented.certificate);
    return { refusal: "no-credentials" };
  }

  private authenticateSas(presented: PresentedCredentials, token: SasToken): EnrollmentMatch | { refusal: string } {
    const expectation = {
      resourceUri: `${presented.idScope}/registrations/${presented.registrationId}`,
      keyName: "registration",
      nowSeconds: presented.nowSeconds,
    };
    const individual = this.individuals.get(presented.registrationId);
    if (individual) {
      if (individual.attestation.type !== "symmetricKey") return { refusal: "attestation-mismatch" };
      const keys = symmetricKeys(individual.attestation);
      const refusal = sasRefusal(token, { ...expectation, keys });
      return refusal ? { refusal } : { individual, settings: individual, credential: { type: "symmetricKey", keys } };
    }
    let lastRefusal = "no-enrollment";
    for (const group of this.groups.values()) {
      if (group.attestation.type !== "symmetricKey") continue;
      const keys = symmetricKeys(group.attestation).map((key) => deriveDeviceKey(key, presented.registrationId));
      const refusal = sasRefusal(token, { ...expectation, keys });
      if (!refusal) return { group, settings: group, credential: { type: "symmetricKey", keys } };
      lastRefusal = refusal;
    }
    return { refusal: lastRefusal };
  }

  private authenticateCertificate(
    presented: PresentedCredentials,
    certificate: { commonName: string | undefined; trusted: boolean },
  ): EnrollmentMatch | { refusal: string } {
    if (!certificate.trusted) return { refusal: "certificate-untrusted" };
    if (certificate.commonName !== presented.registrationId) return { refusal: "certificate-cn-mismatch" };
    const credential: DeviceCredential = { type: "x509", commonName: certificate.commonName };
    const individual = this.individuals.get(presented.registrationId);
    if (individual) {
      if (individual.attestation.type !== "x509") return { refusal: "attestation-mismatch" };
      return { individual, settings: individual, credential };
    }
    for (const group of this.groups.values()) {
      if (group.attestation.type === "x509") return { group, settings: group, credential };
    }
    return { refusal: "no-enrollment" };
  }
}
