import './usage-types.js';
import './usage-fields.js';
import './limits.js';
import './alerts.js';
