/* Progressive enhancement for the candidate pages; everything works without it. */
"use strict";
