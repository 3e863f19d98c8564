// The simulated Device Provisioning Service: enrollments, behaviour, faults and registration
// operations shared by every DPS connection, plus the control surface tests use (`sim.dps`).
// Each connection gets its own DpsSession (./dps-session.ts), which asks this service to start
// and look up operations.
import { DEFAULT_DPS_BEHAVIOUR, FaultPlan, type DpsBehaviour, type DpsFault, type DpsOutcome } from "./dps-faults";
import type { DeviceRegistry } from "./devices";
import { EnrollmentBook, type EnrollmentMatch, type GroupEnrollment, type IndividualEnrollment } from "./enrollments";
import { DpsSession } from "./dps-session";
import { azureTimestamp } from "./azure-errors";
import {
  newEtag,
  newOperationId,
  type RegistrationOperationStatus,
  type RegistrationState,
} from "./dps-messages";
import type { MqttServerConnection, ServiceSession } from "./mqtt-connection";

/** What tests and the demo may do to the simulated DPS while it runs. */
export interface DpsControl {
  enrollIndividual(enrollment: IndividualEnrollment): void;
  enrollGroup(enrollment: GroupEnrollment): void;
  /** Queues a fault; see DpsFault. Throws on a step/action pair that cannot happen. */
  injectFault(fault: DpsFault): void;
  clearFaults(): void;
  /** Changes the simulator-wide behaviour (fields left out keep their value); enrollments may override it. */
  setBehaviour(behaviour: DpsBehaviour): void;
}

export interface Operation {
  operationId: string;
  registrationId: string;
  /** Polls still to be answered 202 before the final 200. */
  assigningPollsLeft: number;
  retryAfterSeconds: number | "omit";
  final: RegistrationOperationStatus;
}

const FAILED_CUSTOM_ALLOCATION = 400209;

function mergeBehaviour(base: Required<DpsBehaviour>, override: DpsBehaviour | undefined): Required<DpsBehaviour> {
  const merged = { ...base };
  if (override?.retryAfterSeconds !== undefined) merged.retryAfterSeconds = override.retryAfterSeconds;
  if (override?.assigningPolls !== undefined) merged.assigningPolls = override.assigningPolls;
  if (override?.outcome !== undefined) merged.outcome = override.outcome;
  return merged;
}

export class DpsService implements DpsControl {
  readonly idScope: string;
  readonly enrollments = new EnrollmentBook();
  readonly faults = new FaultPlan();
  private readonly hubs: readonly string[];
  private readonly devices: DeviceRegistry;
  private behaviour: Required<DpsBehaviour>;
  private readonly operations = new Map<string, Operation>();
  /** Azure keeps a registration's createdDateTimeUtc across re-registrations. */
  private readonly firstRegisteredAt = new Map<string, Date>();

  constructor(idScope: string, hubs: readonly string[], devices: DeviceRegistry, behaviour?: DpsBehaviour) {
    this.idScope = idScope;
    this.hubs = hubs;
    this.devices = devices;
    this.behaviour = mergeBehaviour(DEFAULT_DPS_BEHAVIOUR, behaviour);
  }

  enrollIndividual(enrollment: IndividualEnrollment): void {
    this.checkHub(enrollment.assignedHub);
    this.enrollments.addIndividual(enrollment);
  }

  enrollGroup(enrollment: GroupEnrollment): void {
    this.checkHub(enrollment.assignedHub);
    this.enrollments.addGroup(enrollment);
  }

  injectFault(fault: DpsFault): void {
    this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setBehaviour(behaviour: DpsBehaviour): void {
    this.behaviour = mergeBehaviour(this.behaviour, behaviour);
  }

  open(connection: MqttServerConnection): ServiceSession {
    return new DpsSession(this, connection);
  }

  /** Creates the operation for a register request; the outcome is decided now and revealed by the polls. */
  startOperation(registrationId: string, match: EnrollmentMatch, requestPayload: unknown): Operation {
    const behaviour = mergeBehaviour(this.behaviour, match.settings.behaviour);
    const now = new Date();
    const createdAt = this.firstRegisteredAt.get(registrationId) ?? now;
    this.firstRegisteredAt.set(registrationId, createdAt);
    const operationId = newOperationId();
    const state = this.decide(registrationId, match, requestPayload, behaviour.outcome, createdAt, now);
    const operation: Operation = {
      operationId,
      registrationId,
      assigningPollsLeft: behaviour.assigningPolls,
      retryAfterSeconds: behaviour.retryAfterSeconds,
      final: { operationId, status: state.status, registrationState: state },
    };
    this.operations.set(operationId, operation);
    return operation;
  }

  /** An operation is visible only to the registration that started it. */
  findOperation(operationId: string, registrationId: string): Operation | undefined {
    const operation = this.operations.get(operationId);
    return operation && operation.registrationId === registrationId ? operation : undefined;
  }

  private checkHub(hub: string | undefined): void {
    if (hub !== undefined && !this.isHub(hub)) throw new Error(`enrollment names a hub the simulator does not serve: ${hub}`);
  }

  private isHub(hub: string): boolean {
    return this.hubs.some((name) => name.toLowerCase() === hub.toLowerCase());
  }

  private decide(
    registrationId: string,
    match: EnrollmentMatch,
    requestPayload: unknown,
    outcome: DpsOutcome,
    createdAt: Date,
    now: Date,
  ): RegistrationState {
    const stamps = { createdDateTimeUtc: azureTimestamp(createdAt), lastUpdatedDateTimeUtc: azureTimestamp(now), etag: newEtag() };
    const failed = (errorCode: number, errorMessage: string): RegistrationState => ({
      registrationId,
      createdDateTimeUtc: stamps.createdDateTimeUtc,
      status: "failed",
      errorCode,
      errorMessage,
      lastUpdatedDateTimeUtc: stamps.lastUpdatedDateTimeUtc,
      etag: stamps.etag,
    });
    if (outcome.status === "disabled") {
      return {
        registrationId,
        createdDateTimeUtc: stamps.createdDateTimeUtc,
        status: "disabled",
        lastUpdatedDateTimeUtc: stamps.lastUpdatedDateTimeUtc,
        etag: stamps.etag,
      };
    }
    if (outcome.status === "failed") {
      return failed(outcome.errorCode ?? FAILED_CUSTOM_ALLOCATION, outcome.errorMessage ?? "Registration failed");
    }
    let assignedHub = match.settings.assignedHub ?? this.hubs[0];
    let deviceId = match.individual?.deviceId ?? registrationId;
    let payload: unknown;
    if (match.settings.customAllocation) {
      let result;
      try {
        result = match.settings.customAllocation({ registrationId, payload: requestPayload });
      } catch {
        return failed(FAILED_CUSTOM_ALLOCATION, "Custom allocation failed");
      }
      if (result?.assignedHub !== undefined) assignedHub = result.assignedHub;
      if (result?.deviceId !== undefined) deviceId = result.deviceId;
      payload = result?.payload;
      if (!this.isHub(assignedHub)) return failed(FAILED_CUSTOM_ALLOCATION, "Custom allocation returned an unknown hub");
    }
    this.devices.assign({ hub: assignedHub, deviceId, registrationId, credential: match.credential });
    const state: RegistrationState = {
      registrationId,
      createdDateTimeUtc: stamps.createdDateTimeUtc,
      assignedHub,
      deviceId,
      status: "assigned",
      substatus: "initialAssignment",
      lastUpdatedDateTimeUtc: stamps.lastUpdatedDateTimeUtc,
      etag: stamps.etag,
    };
    if (payload !== undefined) state.payload = payload;
    return state;
  }
}
