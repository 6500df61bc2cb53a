import './host-type.js';
import './host-queries.js';
import './host-mutations.js';
import './host-subscriptions.js';
