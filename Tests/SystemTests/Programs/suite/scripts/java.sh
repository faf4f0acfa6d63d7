java -XX:-UsePerfData -cp "$CLASSES" Probe
