/* `measured report`: statistics over one or more stores, by group, with a baseline comparison,
 * as a table, CSV or JSON, and figures. */
#ifndef MEASURED_REPORT_H
#define MEASURED_REPORT_H

int cmd_report(int argc, char **argv);

#endif
