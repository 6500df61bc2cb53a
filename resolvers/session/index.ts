import './session-type.js';
import './session-inputs.js';
import './session-queries.js';
import './session-mutations.js';
import './session-subscriptions.js';
