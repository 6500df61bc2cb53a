import './audit-type.js';
import './audit-queries.js';
