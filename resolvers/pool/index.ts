import './pool-type.js';
import './pool-fields.js';
import './pool-queries.js';
import './pool-mutations.js';
