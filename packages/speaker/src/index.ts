export { electNode, electionOrder } from './election.js';
export {
  candidatesFor,
  EXCLUDE_LB_LABEL,
  type NodeFacts,
  type ServiceFacts,
  type CandidateInputs,
} from './candidates.js';
export { endpointFacts, type EndpointFacts, type SliceEndpoint } from './endpoints.js';
export {
  decideAnnouncements,
  type SpeakerView,
  type ServiceDecision,
  type Announcement,
  type AnnouncePolicy,
  type ViewService,
} from './announcements.js';
export { respond, type ResponderVerdict, type ResponderLink, type AnnouncedOn } from './responder.js';
export {
  Announcer,
  announcementFrames,
  DEFAULT_ANNOUNCER_OPTIONS,
  type AnnouncerOptions,
  type AnnouncerLink,
} from './announcer.js';
export { selectLinks, readLinks, planLinkChanges, type OpenLinkState, type LinkInfo } from './interfaces.js';
export {
  openLink,
  captureOptions,
  RESPONDER_FILTER,
  CAPTURE_SNAP_LENGTH,
  CAPTURE_BUFFER_BYTES,
  type WireLink,
} from './pcap-link.js';
