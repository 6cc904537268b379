"""Answer: retrieve and pick the facts a frame asks for; compute derived figures."""
