import './server-type.js';
import './server-inputs.js';
import './server-queries.js';
import './server-mutations.js';
import './server-subscriptions.js';
