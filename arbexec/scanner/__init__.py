"""The arbitrage scanner: fresh books for accepted matched pairs, the executable edge at
each size level after both venues' fees, opportunities above a minimum spread handed to
the arbitrage executor, and a journal of what each scan saw for the session report."""
