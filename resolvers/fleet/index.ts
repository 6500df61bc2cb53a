import './fleet-type.js';
import './fleet-subscriptions.js';
